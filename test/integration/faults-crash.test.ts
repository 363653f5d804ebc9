/**
 * Issue 11, fault: the KMS process killed with SIGKILL in the middle of experience encryption,
 * user deletion and master rotation (on the store of the vitest project). Several clients keep
 * requests in flight; the process is killed once enough of them were answered, then started again
 * on the same data dir, database and token.
 *
 * Promised: every operation happened completely or not at all. A ciphertext answered before the
 * kill decrypts after it (the user's first salt was durable before the answer); a deletion answered
 * stays deleted, and an unanswered one left each user either wholly deleted or wholly intact; a
 * rotation either added a new active version with a wrap for every provider or nothing, versions
 * stay 1..n with one active; and the audit chain verifies after each restart.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenOf, spawnKms, type KmsProcess } from '../support/process.js';
import { createPgDatabase, testStore } from '../support/store.js';
import { fetchJson, type JsonReply } from '../support/fetch-json.js';
import { queryStore } from '../support/store-query.js';

const WORKERS = 6;

let kms: KmsProcess;
let dataDir: string;
let databaseUrl: string | undefined;
let dropDb: (() => Promise<void>) | undefined;
let admin: string;
let service: string;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const call = (method: string, url: string, token: string | null, body?: unknown) =>
  fetchJson(kms.url, method, url, token, body);

async function boot(): Promise<void> {
  kms = await spawnKms({
    tokenLabel: 'faults-crash',
    ...(dataDir ? { dataDir } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  dataDir = kms.dataDir;
}

/** SIGKILL now, with requests in flight; wait for the clients to see it; start again. */
async function crashAndRestart(run: Clients): Promise<void> {
  expect(run.inFlight(), 'requests in flight at the kill').toBeGreaterThan(0);
  expect(await kms.kill('SIGKILL')).toBe(null);
  await run.done;
  await boot();
  const verify = await call('GET', '/v1/audit/verify', admin);
  expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
}

beforeAll(async () => {
  if (testStore() === 'postgres') ({ url: databaseUrl, drop: dropDb } = await createPgDatabase());
  await boot();
  admin = adminTokenOf(dataDir);
  const p = await call('POST', '/v1/principals', admin, {
    name: 'svc',
    role: 'experience',
    scopes: [],
  });
  expect(p.status).toBe(201);
  service = (await call('POST', '/v1/principals/svc/tokens', admin, {})).body.token;
}, 120_000);

afterAll(async () => {
  await kms?.kill('SIGKILL');
  await dropDb?.();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * WORKERS clients calling `op(worker, n)` until one gets no answer (the process died); `kill`
 * fires once `answered` of them were answered 200.
 */
function clients(
  op: (worker: number, n: number) => Promise<JsonReply>,
  answered: number,
  onAnswer: (r: JsonReply, worker: number, n: number) => void = () => undefined,
): Clients {
  let ok = 0;
  let pending = 0;
  let signal: () => void = () => undefined;
  const enough = new Promise<void>((r) => (signal = r));
  const unexpected: JsonReply[] = [];
  const loops = Array.from({ length: WORKERS }, async (_, w) => {
    for (let n = 0; ; n++) {
      pending++;
      const r = await op(w, n);
      pending--;
      if (r.status === -1) return;
      if (r.status === 200 || r.status === 201) {
        onAnswer(r, w, n);
        if (++ok >= answered) signal();
      } else unexpected.push(r);
    }
  });
  return {
    done: Promise.all(loops).then(() => undefined),
    enough,
    unexpected,
    inFlight: () => pending,
  };
}

interface Clients {
  readonly done: Promise<void>;
  readonly enough: Promise<void>;
  readonly unexpected: JsonReply[];
  inFlight(): number;
}

interface Sealed {
  readonly userId: string;
  readonly plaintext: string;
  readonly ciphertext: string;
  readonly keyVersion: number;
}

async function encrypt(userId: string, plaintext = b64(randomBytes(48))): Promise<JsonReply> {
  const r = await call('POST', '/v1/experience/encrypt', service, { userId, plaintext });
  return r.status === 200 ? { ...r, body: { ...r.body, userId, plaintext } } : r;
}

const decrypt = (s: { userId: string; ciphertext: string }) =>
  call('POST', '/v1/experience/decrypt', service, { userId: s.userId, ciphertext: s.ciphertext });

async function expectAllDecrypt(sealed: Sealed[]): Promise<void> {
  for (const s of sealed) {
    const d = await decrypt(s);
    expect(d.status, `${s.userId}: ${JSON.stringify(d.body)}`).toBe(200);
    expect(d.body.plaintext).toBe(s.plaintext);
  }
}

describe('SIGKILL during experience operations', () => {
  it('encryption: every ciphertext answered before the kill decrypts after the restart', async () => {
    const sealed: Sealed[] = [];
    // A new user per request: each answer also depends on the user's first salt being durable.
    const run = clients(
      (w, n) => encrypt(`did:lux:122:enc-${w}-${n}`),
      60,
      (r) => sealed.push(r.body),
    );
    await run.enough;
    await crashAndRestart(run);
    expect(run.unexpected).toEqual([]);
    expect(sealed.length).toBeGreaterThanOrEqual(60);
    await expectAllDecrypt(sealed);
  }, 180_000);

  it('user deletion: answered deletions stay deleted, the others are all or nothing', async () => {
    const users = Array.from({ length: 48 }, (_, i) => `did:lux:122:del-${i}`);
    const data = new Map<string, Sealed[]>();
    for (const u of users) {
      const two = [await encrypt(u), await encrypt(u)];
      for (const s of two) expect(s.status).toBe(200);
      data.set(
        u,
        two.map((s) => s.body),
      );
    }
    const acknowledged = new Set<string>();
    let next = 0;
    const run = clients(async () => {
      const u = users[next++];
      if (!u) return { status: -1, body: undefined };
      const r = await call('DELETE', `/v1/experience/users/${encodeURIComponent(u)}`, service);
      if (r.status === 200) acknowledged.add(u);
      return r;
    }, 12);
    await run.enough;
    await crashAndRestart(run);
    expect(run.unexpected).toEqual([]);
    expect(acknowledged.size).toBeGreaterThanOrEqual(12);
    let destroyed = 0;
    for (const u of users) {
      const statuses = await Promise.all(data.get(u)!.map((s) => decrypt(s)));
      const codes = statuses.map((s) => s.status);
      if (acknowledged.has(u)) expect(codes, u).toEqual([410, 410]);
      else
        expect(
          [
            [200, 200],
            [410, 410],
          ],
          `${u}: ${codes}`,
        ).toContainEqual(codes);
      if (codes[0] === 410) destroyed++;
    }
    expect(destroyed).toBeGreaterThanOrEqual(acknowledged.size);
    // A deleted user starts over with a new salt generation.
    const again = await encrypt(users[0]!);
    expect(again.status).toBe(200);
    expect(Number(again.body.ciphertext.split(':')[3])).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('rotation: each rotation added a whole version (with every wrap) or nothing', async () => {
    const sealed: Sealed[] = [];
    const rotated: number[] = [];
    const run = clients(
      (w, n) =>
        w === 0
          ? call('POST', '/v1/experience/rotate', admin)
          : encrypt(`did:lux:122:rot-${w}-${n % 5}`),
      40,
      (r, w) => {
        if (w === 0) rotated.push(r.body.keyVersion);
        else sealed.push(r.body);
      },
    );
    await run.enough;
    await crashAndRestart(run);
    expect(run.unexpected).toEqual([]);
    expect(rotated.length).toBeGreaterThanOrEqual(1);
    const key = await call('GET', '/v1/keys/experience-master', admin);
    const versions: { version: number; state: string }[] = key.body.versions;
    const n = versions.length;
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    expect(versions.filter((v) => v.state === 'active')).toEqual([
      expect.objectContaining({ version: n }),
    ]);
    expect(n).toBeGreaterThanOrEqual(Math.max(...rotated));
    const wraps = await queryStore<{ version: number; wraps: number }>(
      { dataDir, databaseUrl },
      `select v.version as version, count(w.provider) as wraps from key_versions v
         join keys k on k.id = v.key_id
         left join key_wraps w on w.key_id = v.key_id and w.version = v.version
        where k.name = 'experience-master' group by v.version order by v.version`,
    );
    expect(wraps.map((r) => [Number(r.version), Number(r.wraps)])).toEqual(
      versions.map((v) => [v.version, 1]),
    );
    await expectAllDecrypt(sealed);
    const after = await encrypt('did:lux:122:after-rotation');
    expect(after.body.keyVersion).toBe(n);
  }, 180_000);
});
