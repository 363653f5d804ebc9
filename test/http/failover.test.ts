/**
 * Issue 8, failover under traffic (ARCHITECTURE.md "Providers and failover"): two SoftHSM2 tokens
 * as named instances under `kms.providers`, `hsm-a` primary and `hsm-b` backup, built by the real
 * config and provider factory. A steady stream of signing (ECDSA P-256 inside the token) and
 * encryption (AES-256-GCM inside the token) requests runs while access to the primary's token is
 * revoked (its sessions closed and its user PIN changed: token-faults.ts) and later given back.
 * Keys created while only the backup was healthy get the primary's blob from the wrap repair and
 * then work on the primary alone.
 */
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { createProvider } from '../../src/providers/factory.js';
import type { ProviderSet, ProviderStatus } from '../../src/providers/set.js';
import { startKms, type TestKms } from '../support/kms.js';
import { cleanupTestSoftHsm, testSoftHsm, type TestToken } from '../support/softhsm.js';
import { revokeAccess } from '../providers/token-faults.js';

const INTERVAL_MS = 1000;
const WORKERS = 8;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestKms;
let set: ProviderSet;
let tokenA: TestToken;
let tokenB: TestToken;
const publicKeys = new Map<string, Uint8Array>();

function kmsConfig(a: TestToken, b: TestToken): Record<string, unknown> {
  const instance = (tok: TestToken) => ({
    type: 'softhsm2',
    library: tok.library,
    token_label: tok.tokenLabel,
    pin_file: tok.pinFile,
  });
  return {
    kms: {
      provider: 'hsm-a',
      providers: { 'hsm-a': instance(a), 'hsm-b': instance(b) },
      failover: { enabled: true, backup_provider: 'hsm-b', health_check_interval: '1s' },
    },
  };
}

beforeAll(async () => {
  tokenA = testSoftHsm().token('failover-a');
  tokenB = testSoftHsm().token('failover-b');
  const raw = kmsConfig(tokenA, tokenB);
  const config = buildConfig(raw, {});
  expect(config.providers.map((p) => p.name)).toEqual(['hsm-a', 'hsm-b']);
  expect(config.failover.healthCheckIntervalMs).toBe(INTERVAL_MS);
  const built = await Promise.all(config.providers.map((p) => createProvider(p, config)));
  t = await startKms({ config: raw, providers: () => built });
  set = t.kms.services.providers;
  await createKey('sig', 'p-256', 'signing');
  await createKey('enc', 'aes-256-gcm', 'encryption');
});
afterAll(async () => {
  await t?.close();
  cleanupTestSoftHsm();
});

async function createKey(name: string, algorithm: string, purpose: string): Promise<void> {
  const r = await t.call('POST', '/v1/keys', { body: { name, algorithm, purpose } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  if (r.body.publicKey) publicKeys.set(name, Buffer.from(r.body.publicKey.slice(2), 'hex'));
}

/** One signing request, checked with @noble/curves; the status (200 when correct). */
async function signOnce(key: string): Promise<number> {
  const message = randomBytes(24);
  const r = await t.call('POST', `/v1/keys/${key}/sign`, { body: { message: b64(message) } });
  if (r.status !== 200) return r.status;
  const sig = Buffer.from(r.body.signature.slice(2), 'hex');
  const ok = p256.verify(sig, sha256(message), publicKeys.get(key)!, { prehash: false });
  return ok ? 200 : 599;
}

/** One encrypt + decrypt round trip; the first non-200 status, or 200. */
async function sealOnce(key: string): Promise<number> {
  const plaintext = randomBytes(64);
  const e = await t.call('POST', `/v1/keys/${key}/encrypt`, {
    body: { plaintext: b64(plaintext) },
  });
  if (e.status !== 200) return e.status;
  const d = await t.call('POST', `/v1/keys/${key}/decrypt`, {
    body: { ciphertext: e.body.ciphertext },
  });
  if (d.status !== 200) return d.status;
  return Buffer.from(d.body.plaintext, 'base64').equals(plaintext) ? 200 : 599;
}

interface Load {
  ok: number;
  failed: { status: number; at: number }[];
  stop(): Promise<void>;
}

/** WORKERS loops of signing and encryption requests until stopped. */
function steadyLoad(): Load {
  let running = true;
  const load: Load = { ok: 0, failed: [], stop: async () => undefined };
  const loops = Array.from({ length: WORKERS }, async (_, i) => {
    while (running) {
      const status = i % 2 === 0 ? await signOnce('sig') : await sealOnce('enc');
      if (status === 200) load.ok++;
      else load.failed.push({ status, at: Date.now() });
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

const status = (name: string): ProviderStatus => set.status().find((p) => p.name === name)!;
const served = (name: string): number => status(name).operations.ok;

/** Polls `cond` every 10 ms; the time it took, or a failure after `limitMs`. */
async function within(limitMs: number, what: string, cond: () => boolean | Promise<boolean>) {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > limitMs)
      throw new Error(
        `${what}: not within ${limitMs} ms; providers: ${JSON.stringify(set.status())}`,
      );
    await sleep(10);
  }
  return Date.now() - started;
}

/**
 * Runs forced health checks until `name` is out (a check already in flight when the fault was made
 * is joined by the next forced one and may still pass).
 */
async function downByCheck(name: string): Promise<void> {
  await within(3000, `${name} taken out by its health check`, async () => {
    await set.checkAll(true);
    return !set.isHealthy(name);
  });
}

/** Providers holding a blob of `name` (of one version, when given). */
async function wrapsOf(name: string, version?: number): Promise<string[]> {
  let q = t.kms.services.deps.db
    .selectFrom('key_wraps')
    .innerJoin('keys', 'keys.id', 'key_wraps.key_id')
    .select('key_wraps.provider')
    .where('keys.name', '=', name);
  if (version !== undefined) q = q.where('key_wraps.version', '=', version);
  const rows = await q.orderBy('key_wraps.provider').execute();
  return rows.map((r) => r.provider);
}

describe('failover from hsm-a to hsm-b under traffic, and back', () => {
  it('loses no request, moves to the backup within one interval and returns after recovery', async () => {
    const load = steadyLoad();
    await within(5000, 'traffic on the primary', () => served('hsm-a') > 50);
    const before = { a: served('hsm-a'), b: served('hsm-b') };
    expect(before.b).toBe(0);

    const restore = revokeAccess(tokenA);
    const revokedAt = Date.now();
    const aAtRevoke = served('hsm-a');
    const toBackup = await within(INTERVAL_MS, 'traffic on the backup', () => served('hsm-b') > 0);
    expect(status('hsm-a').healthy).toBe(false);
    expect(status('hsm-a').error).toMatch(/hsm-a/);
    const ready = await t.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual(
      expect.objectContaining({ name: 'provider:hsm-a', status: 'fail' }),
    );
    const metrics = await t.call('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/kms_provider_healthy\{provider="hsm-a"\} 0/);
    expect(metrics.body).toMatch(/kms_provider_healthy\{provider="hsm-b"\} 1/);

    // Keys made now get only the backup's blob.
    await createKey('sig-outage', 'p-256', 'signing');
    await createKey('enc-outage', 'aes-256-gcm', 'encryption');
    expect(await wrapsOf('sig-outage')).toEqual(['hsm-b']);
    expect(await wrapsOf('enc-outage')).toEqual(['hsm-b']);
    await sleep(3 * INTERVAL_MS);
    const during = { a: served('hsm-a'), b: served('hsm-b') };
    expect(during.a).toBe(aAtRevoke);
    expect(during.b).toBeGreaterThan(50);

    restore();
    const restoredAt = Date.now();
    const toPrimary = await within(
      2 * INTERVAL_MS + 1000,
      'traffic back on the primary',
      () => served('hsm-a') > during.a,
    );
    // The repair goes by key id, so wait for both keys made during the outage.
    await within(5000, 'the wrap repair', async () => {
      const done = [await wrapsOf('enc-outage'), await wrapsOf('sig-outage')];
      return done.every((w) => w.length === 2);
    });
    const afterRepair = served('hsm-b');
    await sleep(INTERVAL_MS);
    const bAfter = served('hsm-b');
    await load.stop();

    const report = {
      requests: load.ok + load.failed.length,
      succeeded: load.ok,
      failed: load.failed.length,
      retriedOnBackup: status('hsm-a').operations.unavailable,
      servedByPrimaryBefore: before.a,
      servedByBackupDuringOutage: during.b,
      servedByPrimaryAfter: served('hsm-a') - during.a,
      msToBackup: toBackup,
      msBackToPrimary: toPrimary,
      outageMs: restoredAt - revokedAt,
    };
    // eslint-disable-next-line no-console -- issue 8 asks the test to report the counts
    console.log('failover under traffic:', JSON.stringify(report));
    expect(load.failed).toEqual([]);
    expect(report.retriedOnBackup).toBeGreaterThan(0);
    expect(status('hsm-a').healthy).toBe(true);
    // Back on the primary: the backup served nothing more once the repair was done.
    expect(bAfter).toBe(afterRepair);
    expect(report.servedByPrimaryAfter).toBeGreaterThan(10);
  });

  it('keys created while only the backup was healthy work on the primary alone after it returns', async () => {
    expect(await wrapsOf('sig-outage')).toEqual(['hsm-a', 'hsm-b']);
    expect(await wrapsOf('enc-outage')).toEqual(['hsm-a', 'hsm-b']);
    const events = await t.call('GET', '/v1/audit/events?action=key.wrap_repair&limit=100');
    expect(events.status).toBe(200);
    const repaired = events.body.events.map((e: { key: string; principal: string }) => [
      e.key,
      e.principal,
    ]);
    expect(repaired.sort()).toEqual([
      ['enc-outage', 'system'],
      ['sig-outage', 'system'],
    ]);

    const restore = revokeAccess(tokenB);
    try {
      const [a, b] = [served('hsm-a'), served('hsm-b')];
      expect(await signOnce('sig-outage')).toBe(200);
      expect(await sealOnce('enc-outage')).toBe(200);
      // At least these three: background work (an audit checkpoint's signature, a repair) may
      // also run on the primary meanwhile; none of it may reach the backup.
      expect(served('hsm-a')).toBeGreaterThanOrEqual(a + 3);
      expect(served('hsm-b')).toBe(b);
      await downByCheck('hsm-b');
      expect(await signOnce('sig-outage')).toBe(200);
      expect(await sealOnce('enc-outage')).toBe(200);
    } finally {
      restore();
    }
    await within(3 * INTERVAL_MS, 'the backup healthy again', () => status('hsm-b').healthy);
  });

  it('a key rotated during an outage gets its new version repaired; a destroyed one gets nothing back', async () => {
    await createKey('rot', 'aes-256-gcm', 'encryption');
    const restore = revokeAccess(tokenA);
    try {
      await downByCheck('hsm-a');
      expect((await t.call('POST', '/v1/keys/rot/rotate')).status).toBe(200);
      await createKey('shred', 'hmac-sha256', 'derivation');
      expect((await t.call('DELETE', '/v1/keys/shred')).status).toBe(200);
    } finally {
      restore();
    }
    await within(5000, 'rot v2 repaired', async () => (await wrapsOf('rot', 2)).includes('hsm-a'));
    expect(await wrapsOf('rot', 1)).toEqual(['hsm-a', 'hsm-b']);
    expect(await wrapsOf('shred')).toEqual([]);
    const events = await t.call('GET', '/v1/audit/events?action=key.wrap_repair&limit=100');
    const keys = events.body.events.map((e: { key: string }) => e.key);
    expect(keys).toContain('rot');
    expect(keys).not.toContain('shred');
  });
});
