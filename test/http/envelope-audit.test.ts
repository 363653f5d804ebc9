/**
 * Every envelope call, success or refusal, is one audit event, and no plaintext, data key, derived
 * key or key material reaches the audit API, the SQLite file or the PostgreSQL tables.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { allAuditEvents, b64, importKey } from './envelope-reference.js';

const AES_KEY = Uint8Array.from(randomBytes(32));
const MASTER = Uint8Array.from(randomBytes(32));
const PLAINTEXT = Uint8Array.from(randomBytes(48));
let t: TestKms;
let svc: string;

beforeAll(async () => {
  t = await startKms();
  await importKey(t, 'ek', 'aes-256-gcm', 'encryption', AES_KEY);
  await importKey(t, 'dk', 'hmac-sha256', 'derivation', MASTER);
  svc = await principalToken(t, 'svc', 'encryption', ['ek', 'dk', 'nokey']);
});
afterAll(async () => {
  await t?.close();
  cleanupTestSoftHsm();
});

interface Expectation {
  action: string;
  outcome: 'success' | 'refused';
  code?: string;
  keyVersion?: number | null;
}

describe('audit of envelope calls', () => {
  const expected = new Map<string, Expectation>();
  const secrets: Uint8Array[] = [AES_KEY, MASTER, PLAINTEXT];
  let n = 0;
  const call = async (url: string, body: object, e: Expectation) => {
    const id = `env-audit-${++n}`;
    expected.set(id, e);
    return t.call('POST', url, { token: svc, body, headers: { 'x-request-id': id } });
  };

  beforeAll(async () => {
    const context = { tenant: 't-1' };
    const enc = await call(
      '/v1/keys/ek/encrypt',
      { plaintext: b64(PLAINTEXT), context },
      { action: 'key.encrypt', outcome: 'success', keyVersion: 1 },
    );
    const ciphertext = enc.body.ciphertext as string;
    await call(
      '/v1/keys/ek/decrypt',
      { ciphertext, context },
      { action: 'key.decrypt', outcome: 'success', keyVersion: 1 },
    );
    await call(
      '/v1/keys/ek/decrypt',
      { ciphertext },
      { action: 'key.decrypt', outcome: 'refused', code: 'DECRYPTION_FAILED', keyVersion: 1 },
    );
    await call(
      '/v1/keys/ek/rewrap',
      { ciphertext, context },
      { action: 'key.rewrap', outcome: 'success', keyVersion: 1 },
    );
    const dk = await call(
      '/v1/keys/ek/datakey',
      {},
      { action: 'key.datakey', outcome: 'success', keyVersion: 1 },
    );
    secrets.push(Buffer.from(dk.body.plaintext, 'base64'));
    await call(
      '/v1/keys/ek/datakey',
      { plaintext: false },
      { action: 'key.datakey', outcome: 'success', keyVersion: 1 },
    );
    const derived = await call(
      '/v1/keys/dk/derive',
      { info: 'db' },
      { action: 'key.derive', outcome: 'success', keyVersion: 1 },
    );
    secrets.push(Buffer.from(derived.body.key, 'base64'));
    const wrapTo = await identityToRecipient(await generateX25519Identity());
    await call(
      '/v1/keys/dk/derive',
      { info: 'db', wrapTo },
      { action: 'key.derive', outcome: 'success', keyVersion: 1 },
    );
    await call(
      '/v1/keys/dk/encrypt',
      { plaintext: b64(PLAINTEXT) },
      { action: 'key.encrypt', outcome: 'refused', code: 'WRONG_PURPOSE' },
    );
    await call(
      '/v1/keys/ek/encrypt',
      { plaintext: 'not base64!' },
      { action: 'key.encrypt', outcome: 'refused', code: 'INVALID_REQUEST' },
    );
    await call(
      '/v1/keys/outside/encrypt',
      { plaintext: b64(PLAINTEXT) },
      { action: 'key.encrypt', outcome: 'refused', code: 'FORBIDDEN' },
    );
    await call(
      '/v1/keys/nokey/decrypt',
      { ciphertext },
      { action: 'key.decrypt', outcome: 'refused', code: 'NOT_FOUND' },
    );
    await call(
      '/v1/keys/dk/derive',
      { info: 'db', principal: 'other' },
      { action: 'key.derive', outcome: 'refused', code: 'FORBIDDEN' },
    );
  });

  it('records exactly one event per call, with its outcome and key version', async () => {
    const events = await allAuditEvents(t);
    for (const [id, e] of expected) {
      const mine = events.filter((ev) => ev.requestId === id);
      expect(mine, id).toHaveLength(1);
      expect(mine[0]).toMatchObject({ ...e, code: e.code ?? null, principal: 'svc' });
      if (e.outcome === 'success' && e.action !== 'key.derive')
        expect(mine[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    }
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });

  /** Each secret as lowercase hex (also how pg_dump writes bytea) and as base64. */
  const forms = (s: Uint8Array) => [
    Buffer.from(s).toString('hex'),
    Buffer.from(s).toString('base64'),
  ];

  it('no plaintext or key bytes in /v1/audit/events', async () => {
    const text = JSON.stringify(await allAuditEvents(t));
    expect(text).toContain('env-audit-1');
    for (const s of secrets) for (const f of forms(s)) expect(text.includes(f), f).toBe(false);
  });

  it('no plaintext or key bytes in the store (raw SQLite files or a PostgreSQL dump)', () => {
    if (t.store === 'sqlite') {
      const files = ['kms.sqlite', 'kms.sqlite-wal']
        .map((f) => path.join(t.dataDir, f))
        .filter(existsSync);
      const raw = Buffer.concat(files.map((f) => readFileSync(f)));
      expect(raw.includes(Buffer.from('env-audit-1'))).toBe(true);
      for (const s of secrets) {
        expect(raw.includes(Buffer.from(s))).toBe(false);
        for (const f of forms(s)) expect(raw.includes(Buffer.from(f)), f).toBe(false);
      }
      return;
    }
    const dump = execFileSync('pg_dump', ['--data-only', '--dbname', t.dbUrl], {
      maxBuffer: 256 * 1024 * 1024,
    }).toString();
    expect(dump).toContain('env-audit-1');
    for (const s of secrets) for (const f of forms(s)) expect(dump.includes(f), f).toBe(false);
  });
});
