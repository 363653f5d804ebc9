/**
 * AWS CloudHSM beyond the shared contract (contract.test.ts runs that): cluster discovery and
 * cluster/HSM state through the real @aws-sdk/client-cloudhsm-v2 against fake-cloudhsm.ts (AWS
 * JSON 1.1, SigV4-verified), with SoftHSM2 standing in for the CloudHSM PKCS#11 library.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { createProvider } from '../../src/providers/factory.js';
import {
  CloudHsmProvider,
  type CloudHsmProviderOptions,
} from '../../src/providers/pkcs11/cloudhsm.js';
import { ProviderUnavailableError } from '../../src/providers/provider.js';
import { testSoftHsm, type TestToken } from '../support/softhsm.js';
import { startFakeCloudHsm, type FakeCloudHsm, type FakeCluster } from './fake-cloudhsm.js';
import { setTokenPin } from './token-faults.js';

const CU_PIN = 'kms_cu:cloudhsm-test-password';
let fake: FakeCloudHsm;
let token: TestToken;
let cluster: FakeCluster;
const opened: CloudHsmProvider[] = [];

beforeAll(async () => {
  fake = await startFakeCloudHsm();
  cluster = fake.addCluster('cluster-abc123');
  token = setTokenPin(testSoftHsm().token('zoo-cloudhsm-test'), CU_PIN);
});
afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  await fake.stop();
});

function options(extra: Partial<CloudHsmProviderOptions> = {}): CloudHsmProviderOptions {
  return {
    ...token.options,
    name: 'cloudhsm',
    clusterId: cluster.id,
    region: fake.region,
    endpoint: fake.endpoint,
    credentials: fake.credentials,
    ...extra,
  };
}

async function openProvider(extra: Partial<CloudHsmProviderOptions> = {}) {
  const p = new CloudHsmProvider(options(extra));
  await p.open();
  opened.push(p);
  return p;
}

describe('cluster discovery', () => {
  it('describes the cluster at open(): state and HSMs with their zones and ENI addresses', async () => {
    const p = await openProvider();
    expect(p.cluster).toEqual({
      id: 'cluster-abc123',
      state: 'ACTIVE',
      hsms: [
        { id: cluster.hsms[0]!.id, zone: 'us-east-1a', ip: '10.0.0.10', state: 'ACTIVE' },
        { id: cluster.hsms[1]!.id, zone: 'us-east-1b', ip: '10.0.1.10', state: 'ACTIVE' },
      ],
    });
    expect(fake.calls.badSignature).toBe(0);
  });

  it('without cluster_id, uses the only cluster of the region, and refuses to guess between two', async () => {
    const { clusterId: _omit, ...noId } = options();
    const p = new CloudHsmProvider(noId);
    opened.push(p);
    await p.open();
    expect(p.cluster?.id).toBe('cluster-abc123');
    fake.addCluster('cluster-def456');
    try {
      await expect(new CloudHsmProvider(noId).open()).rejects.toThrow(
        'aws-cloudhsm provider cloudhsm: set cluster_id: us-east-1 holds 2 clusters (cluster-abc123, cluster-def456)',
      );
    } finally {
      fake.clusters.pop();
    }
  });
});

describe('start-up errors name the provider and the problem', () => {
  it('a cluster that does not exist', async () => {
    await expect(
      new CloudHsmProvider(options({ clusterId: 'cluster-nope' })).open(),
    ).rejects.toThrow(
      'aws-cloudhsm provider cloudhsm: cluster cluster-nope does not exist in us-east-1',
    );
  });

  it('a cluster that is not serving yet', async () => {
    const c = fake.addCluster('cluster-new000', 0);
    c.state = 'UNINITIALIZED';
    await expect(new CloudHsmProvider(options({ clusterId: c.id })).open()).rejects.toThrow(
      'aws-cloudhsm provider cloudhsm: cluster cluster-new000 is UNINITIALIZED with 0 ACTIVE HSM(s) (no HSMs)',
    );
  });

  it('credentials the API does not accept', async () => {
    const wrong = { accessKeyId: fake.credentials.accessKeyId, secretAccessKey: 'wrong' };
    await expect(new CloudHsmProvider(options({ credentials: wrong })).open()).rejects.toThrow(
      /aws-cloudhsm provider cloudhsm: DescribeClusters failed: InvalidSignatureException \(HTTP 403\)/,
    );
    expect(fake.calls.badSignature).toBeGreaterThan(0);
  });

  it('a PIN file that does not hold "<crypto user>:<password>"', async () => {
    const pinFile = path.join(testSoftHsm().dir, 'plain.pin');
    writeFileSync(pinFile, 'password-only\n', { mode: 0o600 });
    const config = configOf(pinFile);
    await expect(createProvider(config.providers[0]!, config)).rejects.toThrow(
      'kms: provider aws-cloudhsm: pin_file must hold <crypto user>:<password>',
    );
  });
});

describe('health follows the cluster and HSM states', () => {
  it('fails while the cluster is DEGRADED or has no ACTIVE HSM, and passes again after', async () => {
    const p = await openProvider();
    await expect(p.health()).resolves.toBeUndefined();
    cluster.state = 'DEGRADED';
    await expect(p.health()).rejects.toThrow(
      new ProviderUnavailableError(
        'cloudhsm',
        'cluster cluster-abc123 is DEGRADED with 2 ACTIVE HSM(s)',
      ).message,
    );
    cluster.state = 'ACTIVE';
    for (const h of cluster.hsms) h.state = 'DELETE_IN_PROGRESS';
    await expect(p.health()).rejects.toThrow(
      /is ACTIVE with 0 ACTIVE HSM\(s\) \(hsm-\w+ DELETE_IN_PROGRESS/,
    );
    for (const h of cluster.hsms) h.state = 'ACTIVE';
    await expect(p.health()).resolves.toBeUndefined();
  });

  it('keeps serving on the PKCS#11 canary when only the CloudHSM API is down', async () => {
    const p = await openProvider();
    fake.fault = 'down';
    try {
      await expect(p.health()).resolves.toBeUndefined();
      expect(p.lastApiError).toMatch(
        /DescribeClusters failed: ServiceUnavailableException \(HTTP 503\)/,
      );
      const secret = randomBytes(32);
      expect(await p.unwrap('hmac-sha256', await p.wrap('hmac-sha256', secret))).toEqual(
        new Uint8Array(secret),
      );
    } finally {
      fake.fault = 'none';
    }
    await p.health();
    expect(p.lastApiError).toBeUndefined();
  });

  it('fails when the cluster is deleted', async () => {
    const c = fake.addCluster('cluster-gone00');
    const p = await openProvider({ clusterId: c.id });
    fake.clusters.splice(fake.clusters.indexOf(c), 1);
    await expect(p.health()).rejects.toThrow('cluster cluster-gone00 does not exist in us-east-1');
  });
});

describe('from config (kms.aws-cloudhsm), credentials from the default chain', () => {
  it('builds the provider and opens it', async () => {
    const pinFile = path.join(testSoftHsm().dir, 'cu.pin');
    writeFileSync(pinFile, `${CU_PIN}\n`, { mode: 0o600 });
    vi.stubEnv('AWS_ACCESS_KEY_ID', fake.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', fake.credentials.secretAccessKey);
    try {
      const config = configOf(pinFile);
      const p = await createProvider(config.providers[0]!, config);
      expect(p).toBeInstanceOf(CloudHsmProvider);
      opened.push(p as CloudHsmProvider);
      await p.open();
      await expect(p.health()).resolves.toBeUndefined();
      expect(p.capabilities).toEqual({
        hmac: { minKeyBytes: 32 },
        aesGcm: false,
        sign: ['p-256', 'secp256k1'],
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

function configOf(pinFile: string) {
  return buildConfig(
    {
      kms: {
        provider: 'aws-cloudhsm',
        'aws-cloudhsm': {
          library: token.library,
          token_label: token.tokenLabel,
          pin_file: pinFile,
          cluster_id: cluster.id,
          region: fake.region,
          endpoint: fake.endpoint,
        },
      },
    },
    { KMS_DATA_DIR: testSoftHsm().dir },
  );
}
