/**
 * Issue 6, replicate keys end to end: a real SQLite file encrypted to the recipients of the API is
 * restored with the identity the zkms CLI (a real process, against this listening server) writes
 * to disk; Debian's `age` reads the x25519 one. Determinism across restarts and providers, the
 * documented HKDF info strings, and rotation with old versions still served.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { SoftwareProvider } from '../../src/providers/software.js';
import {
  decryptWith,
  encryptTo,
  fetchIdentity,
  makeSqliteFile,
  readUsers,
  runCli,
  runCommand,
} from '../support/replicate.js';

let t: TestKms;
let first: TestKms;
let url: string;
let token: string;
const work = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-replicate-'));
const others: TestKms[] = [];
beforeAll(async () => {
  t = first = await startKms();
  url = await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
  token = await principalToken(t, 'iam-sidecar', 'replicate', ['zoo/prod/iam']);
});
afterAll(async () => {
  for (const o of others) await o.close();
  await t?.close();
  // After a restart, the first handle still owns the data dir and the PostgreSQL database.
  if (first !== t) await first?.close();
  rmSync(work, { recursive: true, force: true });
});

const target = ['--ecosystem', 'zoo', '--env', 'prod', '--service', 'iam'];
const cliAuth = () => ['--url', url, '--token', token];
let oldBackup: Uint8Array;
let dbBytes: Uint8Array;

describe('end to end with the CLI', () => {
  it('restores a SQLite file encrypted to the mlkem768x25519 recipient', async () => {
    const rec = await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token });
    expect(rec.status).toBe(200);
    expect(rec.body.keyVersion).toBe(1);
    expect(rec.body.recipients.mlkem768x25519).toMatch(/^age1pq1[02-9ac-hj-np-z]{1900,}$/);
    expect(rec.body.recipients.x25519).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(rec.body.s3Prefix).toBe('s3://zoo-replicate-prod/iam/');
    dbBytes = makeSqliteFile(path.join(work, 'iam.sqlite'), 500);
    oldBackup = await encryptTo(rec.body.recipients.mlkem768x25519, dbBytes);

    const out = path.join(work, 'pq.key');
    const r = await runCli(['replicate', 'identity', ...target, '--out', out, ...cliAuth()]);
    expect(r.code, r.stderr).toBe(0);
    const identity = readFileSync(out, 'utf8');
    expect(identity).toMatch(/^AGE-SECRET-KEY-PQ-1[0-9A-Z]{58}\n$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain('AGE-SECRET-KEY');
    expect(r.stdout).toContain(rec.body.recipients.mlkem768x25519);

    const restored = path.join(work, 'restored-pq.sqlite');
    writeFileSync(restored, await decryptWith(identity.trim(), oldBackup));
    expect(Buffer.compare(readFileSync(restored), Buffer.from(dbBytes))).toBe(0);
    expect(readUsers(restored)).toHaveLength(500);
  });

  it('restores with the x25519 kind, also with Debian age, and writes 0600 over an old file under umask 000', async () => {
    const rec = await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token });
    const backup = path.join(work, 'iam.sqlite.age');
    writeFileSync(backup, await encryptTo(rec.body.recipients.x25519, dbBytes));
    const out = path.join(work, 'x.key');
    writeFileSync(out, 'stale\n', { mode: 0o644 });
    const r = await runCli(
      ['replicate', 'identity', ...target, '--kind', 'x25519', '--out', out, ...cliAuth()],
      '000',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const identity = readFileSync(out, 'utf8');
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}\n$/);
    expect(r.stdout + r.stderr).not.toContain('AGE-SECRET-KEY');

    const ours = await decryptWith(identity.trim(), readFileSync(backup));
    expect(Buffer.compare(Buffer.from(ours), Buffer.from(dbBytes))).toBe(0);
    const debian = await runCommand('/usr/bin/age', ['-d', '-i', out, backup]);
    expect(debian.code, debian.stderr).toBe(0);
    expect(Buffer.compare(debian.out, Buffer.from(dbBytes))).toBe(0);
  });

  it('prints the recipients as a table or JSON', async () => {
    const rec = await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token });
    const json = await runCli(['replicate', 'recipients', ...target, '--json', ...cliAuth()]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(rec.body);
    const tableOut = await runCli(['replicate', 'recipients', ...target, ...cliAuth()]);
    expect(tableOut.code).toBe(0);
    expect(tableOut.stdout).toContain(rec.body.recipients.x25519);
    expect(tableOut.stdout).toContain('s3Prefix: s3://zoo-replicate-prod/iam/');
  });

  it('exits 2 on usage errors, 3 when refused by scope, and writes nothing', async () => {
    const out = path.join(work, 'never.key');
    const noOut = await runCli(['replicate', 'identity', ...target, ...cliAuth()]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out is required');
    const badVersion = await runCli([
      'replicate',
      'identity',
      ...target,
      '--key-version',
      'x',
      '--out',
      out,
      ...cliAuth(),
    ]);
    expect(badVersion.code).toBe(2);
    const dots = await runCli([
      'replicate',
      'identity',
      '--ecosystem',
      'zoo',
      '--env',
      '..',
      '--service',
      'iam',
      '--out',
      out,
      ...cliAuth(),
    ]);
    expect(dots.code).toBe(2);
    expect(dots.stderr).toContain('--env must match');
    const other = await runCli([
      'replicate',
      'identity',
      '--ecosystem',
      'zoo',
      '--env',
      'prod',
      '--service',
      'kms',
      '--out',
      out,
      ...cliAuth(),
    ]);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('FORBIDDEN');
    expect(() => statSync(out)).toThrow();
  });
});

describe('derivation', () => {
  const master = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
  const masterHex = '0x' + Buffer.from(master).toString('hex');
  /** ARCHITECTURE.md item 4 written out again, with @noble/hashes and the bech32 codec of age. */
  const expected = (info: string, kind: 'mlkem768x25519' | 'x25519') =>
    bech32
      .encodeFromBytes(
        kind === 'x25519' ? 'AGE-SECRET-KEY-' : 'AGE-SECRET-KEY-PQ-',
        expand(sha256, master, new TextEncoder().encode(info), 32),
      )
      .toUpperCase();
  const importMaster = async (k: TestKms, name: string) => {
    const r = await k.call('POST', '/v1/keys/import', {
      body: { name, algorithm: 'hmac-sha256', purpose: 'replicate-master', privateKey: masterHex },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  };

  it('uses the documented info strings, per ecosystem prefix', async () => {
    for (const eco of ['zoo', 'lux', 'hanzo']) {
      await importMaster(t, `replicate-master.${eco}.staging`);
      for (const kind of ['mlkem768x25519', 'x25519'] as const) {
        const got = await fetchIdentity(t, `${eco}/staging/iam`, { kind });
        expect(got.status).toBe(200);
        expect(got.body).toMatchObject({ keyVersion: 1, kind });
        expect(got.identity).toBe(expected(`${eco}:replicate:staging:iam:${kind}:v1`, kind));
      }
    }
    expect((await fetchIdentity(t, 'zoo/staging/iam')).identity).toBe(
      expected('zoo:replicate:staging:iam:mlkem768x25519:v1', 'mlkem768x25519'),
    );
  });

  it('gives the same identity across providers: another SoftHSM2 token and the software provider', async () => {
    const keyFile = path.join(work, 'software-root.key');
    const b = await startKms({ tokenLabel: 'replicate-other' });
    const c = await startKms({
      providers: () => [new SoftwareProvider({ name: 'software', keyFile })],
    });
    others.push(b, c);
    for (const k of [b, c]) {
      await importMaster(k, 'replicate-master.zoo.staging');
      for (const kind of ['mlkem768x25519', 'x25519'] as const) {
        expect((await fetchIdentity(k, 'zoo/staging/iam', { kind })).identity).toBe(
          (await fetchIdentity(t, 'zoo/staging/iam', { kind })).identity,
        );
      }
    }
  });

  it('differs by service, env, ecosystem and kind', async () => {
    const ids = await Promise.all(
      [
        'zoo/staging/iam',
        'zoo/staging/kms',
        'zoo/prod/iam',
        'lux/staging/iam',
        'hanzo/staging/iam',
      ].flatMap((tg) =>
        (['mlkem768x25519', 'x25519'] as const).map(
          async (kind) => (await fetchIdentity(t, tg, { kind })).identity,
        ),
      ),
    );
    expect(ids.every((i) => typeof i === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('makes one master under concurrent first use, requests arriving before, during and after', async () => {
    // Staggered arrivals: some requests look the name up while the first one is creating it.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        new Promise((r) => setTimeout(r, i * 2)).then(() => fetchIdentity(t, 'zoo/race/iam')),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(200));
    expect(new Set(results.map((r) => r.identity)).size).toBe(1);
    const key = await t.call('GET', '/v1/keys/replicate-master.zoo.race');
    expect(key.body).toMatchObject({
      purpose: 'replicate-master',
      algorithm: 'hmac-sha256',
      versions: [{ version: 1, state: 'active' }],
    });
  });
  it('creates the master while the name is being looked up elsewhere', async () => {
    // GET /v1/keys/{name} answers 404 (and the keyring remembers that) until the master exists.
    let done = false;
    const lookups = (async () => {
      while (!done) {
        await t.call('GET', '/v1/keys/replicate-master.zoo.polled');
        // inject never leaves the microtask queue: yield so timers and I/O (the writer) run.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const got = await fetchIdentity(t, 'zoo/polled/iam');
    done = true;
    await lookups;
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect((await t.call('GET', '/v1/keys/replicate-master.zoo.polled')).status).toBe(200);
  });
});

describe('rotation', () => {
  it('moves recipients to the new version and still serves the old one for restores', async () => {
    const before = await fetchIdentity(t, 'zoo/prod/iam', {}, token);
    expect((await t.call('POST', '/v1/replicate/zoo/prod/rotate', { token })).status).toBe(403);
    const rot = await t.call('POST', '/v1/replicate/zoo/prod/rotate');
    expect(rot.status).toBe(200);
    expect(rot.body).toEqual({ keyVersion: 2 });
    const rec = await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token });
    expect(rec.body.keyVersion).toBe(2);
    const now = await fetchIdentity(t, 'zoo/prod/iam', {}, token);
    expect(now.body.keyVersion).toBe(2);
    expect(now.identity).not.toBe(before.identity);
    await expect(decryptWith(now.identity!, oldBackup)).rejects.toThrow();

    const out = path.join(work, 'v1.key');
    const r = await runCli([
      'replicate',
      'identity',
      ...target,
      '--key-version',
      '1',
      '--out',
      out,
      ...cliAuth(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const restored = await decryptWith(readFileSync(out, 'utf8').trim(), oldBackup);
    expect(Buffer.compare(Buffer.from(restored), Buffer.from(dbBytes))).toBe(0);
  });

  it('refuses a retired or destroyed version with the typed errors', async () => {
    const old = await fetchIdentity(t, 'zoo/prod/iam', { keyVersion: 1 }, token);
    expect(old.status).toBe(200);
    expect(
      (
        await t.call('PATCH', '/v1/keys/replicate-master.zoo.prod', {
          body: { minDecryptionVersion: 2 },
        })
      ).status,
    ).toBe(200);
    expect((await fetchIdentity(t, 'zoo/prod/iam', { keyVersion: 1 }, token)).body.error.code).toBe(
      'KEY_VERSION_RETIRED',
    );
    expect(
      (
        await t.call('PATCH', '/v1/keys/replicate-master.zoo.prod', {
          body: { minDecryptionVersion: 1 },
        })
      ).status,
    ).toBe(200);
    expect((await fetchIdentity(t, 'zoo/prod/iam', { keyVersion: 1 }, token)).identity).toBe(
      old.identity,
    );
    expect((await t.call('DELETE', '/v1/keys/replicate-master.zoo.prod/versions/1')).status).toBe(
      200,
    );
    const gone = await fetchIdentity(t, 'zoo/prod/iam', { keyVersion: 1 }, token);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('KEY_DESTROYED');
    expect(
      (await fetchIdentity(t, 'zoo/prod/iam', { keyVersion: 3 }, token)).body.error.message,
    ).toMatch(/^keyVersion /);
  });
});

describe('restart', () => {
  it('derives the same identities after a restart', async () => {
    const before = await Promise.all(
      (['mlkem768x25519', 'x25519'] as const).map((kind) =>
        fetchIdentity(t, 'zoo/prod/iam', { kind }, token),
      ),
    );
    t = await t.restart();
    const after = await Promise.all(
      (['mlkem768x25519', 'x25519'] as const).map((kind) =>
        fetchIdentity(t, 'zoo/prod/iam', { kind }, token),
      ),
    );
    expect(after.map((r) => r.identity)).toEqual(before.map((r) => r.identity));
    expect(after.every((r) => r.body.keyVersion === 2)).toBe(true);
  });
});
