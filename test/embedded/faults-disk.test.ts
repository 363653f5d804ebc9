/**
 * Issue 11, fault: the embedded store's disk full, and read-only. The data dir (SQLite database,
 * WAL, instance id, admin token) is a small tmpfs mounted for this file, so the fault is a real
 * ENOSPC / EROFS from the kernel, not a simulation. (As root, chmod does not stop writes, so a
 * read-only directory cannot stand in; a tmpfs cannot be remounted read-only while SQLite holds the
 * database open for writing (EBUSY), so read-only is tested at start.) SQLite by design:
 * this is the embedded store; PostgreSQL's own outages are faults-postgres.pg.test.ts.
 *
 * Promised: with the disk full, writes answer 503 (STORE_UNAVAILABLE or AUDIT_UNAVAILABLE, never a
 * 500), the process stays up, and every operation answered 200 before or after survives; once space
 * is freed, operations resume without a restart; the database passes `PRAGMA integrity_check` and
 * the audit chain verifies. On a read-only data dir the process refuses to start, with a message
 * naming the directory and the cause (rather than SQLite's bare "unable to open database file").
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenOf, spawnKms, type KmsProcess } from '../support/process.js';
import { fetchJson, type JsonReply } from '../support/fetch-json.js';

const SIZE = '12m';
const mountDir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-disk-'));
const dataDir = path.join(mountDir, 'data');
const filler = path.join(mountDir, 'filler');
let kms: KmsProcess | undefined;
let admin: string;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const call = (method: string, url: string, body?: unknown): Promise<JsonReply> =>
  fetchJson(kms!.url, method, url, admin, body);
const mount = (...opts: string[]) => execFileSync('mount', opts, { stdio: 'pipe' });

async function boot(): Promise<void> {
  kms = await spawnKms({ dataDir, tokenLabel: 'faults-disk' });
}

/** Fills the filesystem: writes until the kernel answers ENOSPC. */
function fill(): number {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0xa5);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this fault test mounts a tmpfs for the data dir and must run as root');
  mount('-t', 'tmpfs', '-o', `size=${SIZE},mode=0700`, 'tmpfs', mountDir);
  mkdirSync(dataDir, { mode: 0o700 });
  await boot();
  admin = adminTokenOf(dataDir);
  const created = [
    await call('POST', '/v1/keys', {
      name: 'enc',
      algorithm: 'aes-256-gcm',
      purpose: 'encryption',
    }),
    await call('POST', '/v1/keys', { name: 'val', algorithm: 'bls12-381', purpose: 'validator' }),
  ];
  for (const c of created) expect(c.status, JSON.stringify(c.body)).toBe(201);
}, 120_000);

afterAll(async () => {
  await kms?.kill('SIGKILL');
  try {
    execFileSync('umount', [mountDir], { stdio: 'pipe' });
  } catch {
    // not mounted (beforeAll failed early)
  }
  rmSync(mountDir, { recursive: true, force: true });
});

interface Done {
  readonly sealed: { plaintext: string; ciphertext: string }[];
  height: number;
  readonly refusals: JsonReply[];
}

/** One write of each kind: an encryption (its audit event), a block signature, a new key. */
async function writeRound(done: Done, n: number): Promise<JsonReply[]> {
  const plaintext = b64(randomBytes(200));
  const enc = await call('POST', '/v1/keys/enc/encrypt', { plaintext });
  if (enc.status === 200) done.sealed.push({ plaintext, ciphertext: enc.body.ciphertext });
  const block = await call('POST', '/v1/validators/val/block-signatures', {
    chainId: '122',
    height: String(done.height + 1),
    round: '0',
    blockHash: '0x' + (done.height + 1).toString(16).padStart(64, '0'),
  });
  if (block.status === 200) done.height++;
  const key = await call('POST', '/v1/keys', {
    name: `k-${n}-${randomBytes(3).toString('hex')}`,
    algorithm: 'ed25519',
    purpose: 'signing',
  });
  const replies = [enc, block, key];
  done.refusals.push(...replies.filter((r) => r.status >= 300));
  return replies;
}

describe('disk full', () => {
  it('answers 503 while full, keeps every answered write, resumes once space is freed', async () => {
    const done: Done = { sealed: [], height: 0, refusals: [] };
    for (let n = 0; n < 20; n++) await writeRound(done, n);
    expect(done.refusals).toEqual([]);
    const filled = fill();
    expect(filled).toBeGreaterThan(0);
    // The WAL may have room left from earlier pages: write until the disk says no.
    for (let n = 20; n <= 400 && done.refusals.length < 30; n++) await writeRound(done, n);
    expect(done.refusals.length, 'writes were refused once the disk was full').toBeGreaterThan(0);
    const statuses = new Set(done.refusals.map((r) => `${r.status} ${r.body?.error?.code}`));
    expect([...statuses].filter((s) => !/^503 (STORE|AUDIT)_UNAVAILABLE$/.test(s))).toEqual([]);
    // Reads still work, and the process is up.
    expect((await call('GET', '/v1/keys/enc')).status).toBe(200);
    expect((await fetchJson(kms!.url, 'GET', '/healthz', null)).status).toBe(200);

    rmSync(filler);
    const after: JsonReply[] = [];
    for (let n = 1000; n < 1005; n++) after.push(...(await writeRound(done, n)));
    expect(after.map((r) => r.status)).toEqual(after.map((r) => (r.status === 201 ? 201 : 200)));

    await checkSurvived(done);
  }, 180_000);
});

/** Stop, check the file, start again: every answered write is there and the chain verifies. */
async function checkSurvived(done: Done): Promise<void> {
  expect(await kms!.kill('SIGTERM')).toBe(0);
  const db = new BetterSqlite3(path.join(dataDir, 'kms.sqlite'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    db.close();
  }
  await boot();
  for (const s of done.sealed) {
    const d = await call('POST', '/v1/keys/enc/decrypt', { ciphertext: s.ciphertext });
    expect(d.status).toBe(200);
    expect(d.body.plaintext).toBe(s.plaintext);
  }
  const wm = await call('GET', '/v1/validators/val/watermark?chainId=122');
  expect(wm.body.height).toBe(String(done.height));
  const verify = await call('GET', '/v1/audit/verify');
  expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
}

describe('read-only data dir', () => {
  it('refuses to start, naming the data dir and the read-only file system', async () => {
    expect(await kms!.kill('SIGTERM')).toBe(0);
    kms = undefined;
    mount('-o', 'remount,ro', mountDir);
    // spawnKms writes its kms.yaml into the dir it is given: give it a writable one, and point the
    // process at the read-only data dir through KMS_DATA_DIR.
    const configDir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-disk-config-'));
    try {
      const start = spawnKms({
        dataDir: configDir,
        tokenLabel: 'faults-disk',
        env: { KMS_DATA_DIR: dataDir },
      });
      await expect(start).rejects.toThrow(
        `KMS exited with 1 before listening:\nzoo-kms failed to start: the data directory ${dataDir} is not writable (EROFS: read-only file system)`,
      );
    } finally {
      mount('-o', 'remount,rw', mountDir);
      rmSync(configDir, { recursive: true, force: true });
    }
    await boot();
    expect((await call('GET', '/v1/keys/enc')).status).toBe(200);
  }, 120_000);
});
