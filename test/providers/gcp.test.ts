/**
 * Google Cloud KMS beyond the shared contract (contract.test.ts runs that): the CRC32C integrity
 * fields both ways, a damaged answer never returned, start-up errors that name the provider and
 * the problem (missing or unusable root key, rejected credentials, unreadable credentials file),
 * and outages reported as ProviderUnavailableError. The real @google-cloud/kms client talks gRPC
 * over TLS to fake-gcp-kms.ts, authenticated with a service-account file.
 */
import { startFakeGcpKms, type FakeGcpKms } from './fake-gcp-kms.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config.js';
import { createProvider } from '../../src/providers/factory.js';
import { GcpKmsProvider, type GcpKmsProviderOptions } from '../../src/providers/gcp/provider.js';
import { IntegrityError, ProviderUnavailableError } from '../../src/providers/provider.js';

let fake: FakeGcpKms;
const opened: GcpKmsProvider[] = [];

beforeAll(async () => {
  fake = await startFakeGcpKms();
});
afterEach(() => {
  fake.fault = 'none';
});
afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  await fake.stop();
});

function options(rootKey: string, extra: Partial<GcpKmsProviderOptions> = {}) {
  return {
    name: 'gcp-test',
    projectId: fake.projectId,
    location: 'global',
    keyRing: 'ring',
    rootKey,
    credentials: fake.credentialsFile,
    endpoint: fake.endpoint,
    ...extra,
  };
}

async function openProvider(rootKey: string, extra: Partial<GcpKmsProviderOptions> = {}) {
  const p = new GcpKmsProvider(options(rootKey, extra));
  opened.push(p);
  await p.open();
  return p;
}

describe('CRC32C integrity fields', () => {
  let p: GcpKmsProvider;
  beforeAll(async () => {
    fake.addKey('ring', 'crc');
    p = await openProvider('crc');
  });

  it('sends the CRC32C of every plaintext, ciphertext and AAD, which the server verifies', async () => {
    const before = fake.calls.crcVerified ?? 0;
    const secret = randomBytes(32);
    expect(await p.unwrap('hmac-sha256', await p.wrap('hmac-sha256', secret))).toEqual(
      new Uint8Array(secret),
    );
    expect(fake.calls.crcVerified).toBe(before + 2);
  });

  it.each([
    ['ciphertext-crc', /ciphertext does not match ciphertext_crc32c/],
    ['damaged-ciphertext', /ciphertext does not match ciphertext_crc32c/],
    ['unverified', /did not verify the request CRC32C/],
  ] as const)('rejects an Encrypt answer with fault %s', async (fault, message) => {
    fake.fault = fault;
    const wrap = p.wrap('hmac-sha256', randomBytes(32));
    await expect(wrap).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(wrap).rejects.toThrow(message);
    await expect(p.health()).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('rejects a Decrypt answer whose plaintext does not match plaintext_crc32c', async () => {
    const wrapped = await p.wrap('hmac-sha256', randomBytes(32));
    fake.fault = 'plaintext-crc';
    const unwrap = p.unwrap('hmac-sha256', wrapped);
    await expect(unwrap).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(unwrap).rejects.toThrow(/plaintext does not match plaintext_crc32c/);
    fake.fault = 'none';
    await expect(p.unwrap('hmac-sha256', wrapped)).resolves.toHaveLength(32);
  });
});

describe('blobs and outages', () => {
  let p: GcpKmsProvider;
  beforeAll(async () => {
    fake.addKey('ring', 'blobs');
    p = await openProvider('blobs');
  });

  it('binds a blob to its algorithm (the AAD names it)', async () => {
    const wrapped = await p.wrap('hmac-sha256', randomBytes(32));
    await expect(p.unwrap('aes-256-gcm', wrapped)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('is unavailable while the service is, and recovers without reopening', async () => {
    fake.fault = 'unavailable';
    await expect(p.wrap('bls12-381', randomBytes(32))).rejects.toThrow(/UNAVAILABLE/);
    await expect(p.health()).rejects.toBeInstanceOf(ProviderUnavailableError);
    fake.fault = 'none';
    await expect(p.health()).resolves.toBeUndefined();
  });

  it('is unavailable when the root key version is disabled after start', async () => {
    const name = fake.addKey('ring', 'disabled-later');
    const q = await openProvider('disabled-later');
    fake.key(name)!.state = 'DISABLED';
    await expect(q.health()).rejects.toThrow(/FAILED_PRECONDITION/);
  });
});

describe('start-up errors name the provider and the problem', () => {
  it('a missing root key', async () => {
    const q = new GcpKmsProvider(options('no-such-key'));
    await expect(q.open()).rejects.toThrow(
      /google-cloud-kms provider gcp-test: root key projects\/zoo-test\/locations\/global\/keyRings\/ring\/cryptoKeys\/no-such-key does not exist \(NOT_FOUND\)/,
    );
  });

  it('a root key that is not a symmetric encryption key, or is disabled', async () => {
    fake.addKey('ring', 'signing', { purpose: 'ASYMMETRIC_SIGN' });
    fake.addKey('ring', 'off', { state: 'DISABLED' });
    await expect(new GcpKmsProvider(options('signing')).open()).rejects.toThrow(
      /must be a symmetric ENCRYPT_DECRYPT key with an ENABLED primary version \(purpose ASYMMETRIC_SIGN, primary ENABLED\)/,
    );
    await expect(new GcpKmsProvider(options('off')).open()).rejects.toThrow(/primary DISABLED/);
  });

  it('credentials the service does not accept', async () => {
    const other = await startFakeGcpKms('other-project');
    try {
      fake.addKey('ring', 'auth');
      const q = new GcpKmsProvider(options('auth', { credentials: other.credentialsFile }));
      await expect(q.open()).rejects.toThrow(/cannot be read \(UNAUTHENTICATED\)/);
    } finally {
      await other.stop();
    }
  });

  it('a bad endpoint', async () => {
    await expect(
      new GcpKmsProvider(options('x', { endpoint: 'http://x:1' })).open(),
    ).rejects.toThrow(/google-cloud-kms provider gcp-test: endpoint must be host or host:port/);
  });
});

describe('from config (kms.google-cloud-kms)', () => {
  const configOf = (credentials: string) =>
    buildConfig(
      {
        kms: {
          provider: 'google-cloud-kms',
          'google-cloud-kms': {
            project_id: fake.projectId,
            location: 'global',
            key_ring: 'ring',
            root_key: 'from-config',
            credentials,
            endpoint: fake.endpoint,
          },
        },
      },
      { KMS_DATA_DIR: path.dirname(fake.credentialsFile) },
    );

  it('builds the provider with the credentials file and endpoint', async () => {
    fake.addKey('ring', 'from-config');
    const config = configOf(fake.credentialsFile);
    const p = await createProvider(config.providers[0]!, config);
    expect(p).toBeInstanceOf(GcpKmsProvider);
    opened.push(p as GcpKmsProvider);
    await p.open();
    await expect(p.health()).resolves.toBeUndefined();
  });

  it('stops start-up with a message naming an unreadable credentials file', async () => {
    const missing = path.join(path.dirname(fake.credentialsFile), 'missing.json');
    const config = configOf(missing);
    const made = createProvider(config.providers[0]!, config);
    await expect(made).rejects.toBeInstanceOf(ConfigError);
    await expect(made).rejects.toThrow(
      `kms: provider google-cloud-kms: credentials: cannot read ${missing} (ENOENT)`,
    );
  });

  it('reports a credentials file that is not JSON at open(), naming the provider', async () => {
    const broken = path.join(path.dirname(fake.credentialsFile), 'broken.json');
    writeFileSync(broken, 'not json', { mode: 0o600 });
    const config = configOf(broken);
    const p = await createProvider(config.providers[0]!, config);
    await expect(p.open()).rejects.toThrow(/google-cloud-kms provider google-cloud-kms/);
  });
});
