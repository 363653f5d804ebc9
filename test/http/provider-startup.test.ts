/**
 * Issue 8: a provider configured with a missing library, a wrong PIN or a missing root key gives a
 * clear start-up error, or, when another provider can serve, a failing /readyz check naming it;
 * never a silent crash. And the AWS CloudHSM cluster state feeds /readyz and failover. Providers
 * are built by the real config and factory (named instances under `kms.providers`).
 */
import { startFakeGcpKms, type FakeGcpKms } from '../providers/fake-gcp-kms.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { createProvider } from '../../src/providers/factory.js';
import { startKms, type TestKms } from '../support/kms.js';
import { spawnKms } from '../support/process.js';
import { testSoftHsm, type TestToken } from '../support/softhsm.js';
import { startFakeCloudHsm, type FakeCloudHsm } from '../providers/fake-cloudhsm.js';
import { setTokenPin } from '../providers/token-faults.js';

let good: TestToken;
let gcp: FakeGcpKms;
let aws: FakeCloudHsm;
const running: TestKms[] = [];

beforeAll(async () => {
  good = testSoftHsm().token('startup-good');
  [gcp, aws] = await Promise.all([startFakeGcpKms(), startFakeCloudHsm()]);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  for (const t of running) await t.close();
  await Promise.all([gcp?.stop(), aws?.stop()]);
});

const softhsm = (tok: TestToken, extra: Record<string, unknown> = {}) => ({
  type: 'softhsm2',
  library: tok.library,
  token_label: tok.tokenLabel,
  pin_file: tok.pinFile,
  ...extra,
});

/** A KMS whose providers come from `kms` through buildConfig and createProvider. */
async function kmsWith(kms: Record<string, unknown>): Promise<TestKms> {
  const raw = { kms: { failover: { health_check_interval: '1s' }, ...kms } };
  const config = buildConfig(raw, {});
  const built = await Promise.all(config.providers.map((p) => createProvider(p, config)));
  const t = await startKms({ config: raw, providers: () => built });
  running.push(t);
  return t;
}

function failedCheck(
  body: { checks: { name: string; status: string; error?: string }[] },
  name: string,
) {
  const c = body.checks.find((x) => x.name === `provider:${name}`);
  expect(c?.status, JSON.stringify(body)).toBe('fail');
  return c!.error ?? '';
}

describe('a misconfigured backup: the KMS serves on the primary and /readyz names the backup', () => {
  it('missing library, wrong PIN, missing Cloud KMS root key', async () => {
    const badPin = path.join(testSoftHsm().dir, 'wrong.pin');
    writeFileSync(badPin, 'not-the-pin\n', { mode: 0o600 });
    const t = await kmsWith({
      provider: 'primary',
      providers: {
        primary: softhsm(good),
        'no-library': softhsm(good, { library: '/nonexistent/libvendor-pkcs11.so' }),
        'wrong-pin': softhsm(testSoftHsm().token('startup-badpin'), { pin_file: badPin }),
        'no-root-key': {
          type: 'google-cloud-kms',
          project_id: gcp.projectId,
          location: 'global',
          key_ring: 'ring',
          root_key: 'missing',
          credentials: gcp.credentialsFile,
          endpoint: gcp.endpoint,
        },
      },
      failover: {
        providers: ['no-library', 'wrong-pin', 'no-root-key'],
        health_check_interval: '1s',
      },
    });
    const ready = await t.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(failedCheck(ready.body, 'no-library')).toMatch(
      /provider no-library is unavailable: cannot load PKCS#11 library \/nonexistent\/libvendor-pkcs11.so/,
    );
    expect(failedCheck(ready.body, 'wrong-pin')).toMatch(
      /pkcs11 provider wrong-pin: login to token "startup-badpin" failed: the PIN is incorrect/,
    );
    expect(failedCheck(ready.body, 'no-root-key')).toMatch(
      /google-cloud-kms provider no-root-key: root key projects\/zoo-test\/locations\/global\/keyRings\/ring\/cryptoKeys\/missing does not exist \(NOT_FOUND\)/,
    );
    const providers = await t.call('GET', '/v1/providers');
    expect(
      providers.body.map((p: { name: string; healthy: boolean }) => [p.name, p.healthy]),
    ).toEqual([
      ['primary', true],
      ['no-library', false],
      ['wrong-pin', false],
      ['no-root-key', false],
    ]);
    const key = await t.call('POST', '/v1/keys', {
      body: { name: 'still-works', algorithm: 'p-256', purpose: 'signing' },
    });
    expect(key.status).toBe(201);
    const signed = await t.call('POST', '/v1/keys/still-works/sign', {
      body: { message: Buffer.from('x').toString('base64') },
    });
    expect(signed.status).toBe(200);
  });
});

describe('a misconfigured only provider stops start-up with a message naming it', () => {
  it('in process: buildApp rejects', async () => {
    const badPin = path.join(testSoftHsm().dir, 'wrong-only.pin');
    writeFileSync(badPin, 'not-the-pin\n', { mode: 0o600 });
    await expect(
      kmsWith({
        provider: 'only',
        providers: { only: softhsm(testSoftHsm().token('startup-only'), { pin_file: badPin }) },
      }),
    ).rejects.toThrow(
      /^no key provider could be opened: only: pkcs11 provider only: login to token "startup-only" failed: the PIN is incorrect/,
    );
  });

  it('as a process: it exits once, with the reason on its output', async () => {
    const err = await spawnKms({
      config: {
        kms: {
          provider: 'hsm-x',
          providers: { 'hsm-x': softhsm(good, { library: '/nonexistent/libcloudhsm_pkcs11.so' }) },
        },
      },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^KMS exited with 1 before listening/);
    expect((err as Error).message).toMatch(
      /zoo-kms failed to start: no key provider could be opened: hsm-x: provider hsm-x is unavailable: cannot load PKCS#11 library \/nonexistent\/libcloudhsm_pkcs11.so/,
    );
  });
});

describe('AWS CloudHSM cluster state feeds /readyz and failover', () => {
  it('a DEGRADED cluster fails the check and traffic moves to the backup; ACTIVE brings it back', async () => {
    const cluster = aws.addCluster('cluster-kms001');
    const cu = setTokenPin(testSoftHsm().token('startup-cloudhsm'), 'kms_cu:startup');
    const cuPin = path.join(testSoftHsm().dir, 'cu.pin');
    writeFileSync(cuPin, `${cu.pin}\n`, { mode: 0o600 });
    // The AWS SDK's default credential chain reads these.
    vi.stubEnv('AWS_ACCESS_KEY_ID', aws.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', aws.credentials.secretAccessKey);
    const t = await kmsWith({
      provider: 'aws-cloudhsm',
      'aws-cloudhsm': {
        library: cu.library,
        token_label: cu.tokenLabel,
        pin_file: cuPin,
        cluster_id: cluster.id,
        region: aws.region,
        endpoint: aws.endpoint,
      },
      providers: { backup: softhsm(good) },
      failover: { enabled: true, backup_provider: 'backup', health_check_interval: '1s' },
    });
    const set = t.kms.services.providers;
    const sign = () =>
      t.call('POST', '/v1/keys/cloudhsm-key/sign', {
        body: { message: randomBytes(8).toString('base64') },
      });
    const made = await t.call('POST', '/v1/keys', {
      body: { name: 'cloudhsm-key', algorithm: 'secp256k1', purpose: 'signing' },
    });
    expect(made.status).toBe(201);
    const served = (name: string) => set.status().find((p) => p.name === name)!.operations.ok;

    cluster.state = 'DEGRADED';
    const ready = await t.call('GET', '/readyz', { token: null });
    expect(failedCheck(ready.body, 'aws-cloudhsm')).toBe(
      'provider aws-cloudhsm is unavailable: cluster cluster-kms001 is DEGRADED with 2 ACTIVE HSM(s) ' +
        `(${cluster.hsms.map((h) => `${h.id} ACTIVE`).join(', ')})`,
    );
    const backupBefore = served('backup');
    expect((await sign()).status).toBe(200);
    expect(served('backup')).toBe(backupBefore + 1);

    cluster.state = 'ACTIVE';
    const started = Date.now();
    while (!set.isHealthy('aws-cloudhsm')) {
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const primaryBefore = served('aws-cloudhsm');
    expect((await sign()).status).toBe(200);
    expect(served('aws-cloudhsm')).toBe(primaryBefore + 1);
  });
});

describe('a provider that could not open at start joins when its device appears', () => {
  it('is opened by the health check, gets its root key and the wraps of existing keys', async () => {
    const later = testSoftHsm().token('startup-later-probe');
    const t = await kmsWith({
      provider: 'primary',
      providers: {
        primary: softhsm(good),
        later: softhsm(later, { token_label: 'startup-later' }),
      },
      failover: { providers: ['later'], health_check_interval: '1s' },
    });
    expect(failedCheck((await t.call('GET', '/readyz', { token: null })).body, 'later')).toMatch(
      /startup-later/,
    );
    const made = await t.call('POST', '/v1/keys', {
      body: { name: 'before-join', algorithm: 'p-256', purpose: 'signing' },
    });
    expect(made.status).toBe(201);
    testSoftHsm().token('startup-later', { pin: later.pin });
    let joined = false;
    for (let i = 0; i < 50 && !joined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const list = await t.call('GET', '/v1/providers');
      joined = list.body.some(
        (p: { name: string; healthy: boolean }) => p.name === 'later' && p.healthy,
      );
    }
    expect(joined).toBe(true);
    await expect
      .poll(
        async () =>
          (
            await t.kms.services.deps.db
              .selectFrom('key_wraps')
              .innerJoin('keys', 'keys.id', 'key_wraps.key_id')
              .select('key_wraps.provider')
              .where('keys.name', '=', 'before-join')
              .execute()
          )
            .map((w) => w.provider)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual(['later', 'primary']);
  });
});
