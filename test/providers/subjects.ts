/**
 * The providers the contract and vector suites run against: software, PKCS#11 on SoftHSM2, the AWS
 * CloudHSM setting (SoftHSM2 standing in for its PKCS#11 library, cluster health from a fake
 * CloudHSM v2 API) and Google Cloud KMS (the real client against a fake server). A new provider
 * joins by adding a `ProviderSubject` to `allSubjects`.
 */
import { startFakeGcpKms, type FakeGcpKms } from './fake-gcp-kms.js';
import { startFakeCloudHsm, type FakeCloudHsm } from './fake-cloudhsm.js';
import { setTokenPin } from './token-faults.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Capabilities, KeyProvider } from '../../src/providers/provider.js';
import { GcpKmsProvider } from '../../src/providers/gcp/provider.js';
import { CloudHsmProvider } from '../../src/providers/pkcs11/cloudhsm.js';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { SoftwareProvider } from '../../src/providers/software.js';
import { testSoftHsm, type TestToken } from '../support/softhsm.js';

export interface ProviderSubject {
  readonly name: string;
  /** What it documents as running inside it (docs/providers.md); the contract checks it. */
  readonly capabilities: Capabilities;
  /**
   * Root key sizes in bytes it can hold; opening with another size must fail with a clear Error.
   * Empty for a provider whose root key never exists outside it (Cloud KMS): no RFC 5649 vectors.
   */
  readonly rootKeySizes: readonly number[];
  /** A fresh, open provider with its own root key. */
  make(): Promise<KeyProvider>;
  /** An open provider whose root key is `kek` (for RFC 5649 vectors), when rootKeySizes allows. */
  withRootKey?(kek: Uint8Array): Promise<KeyProvider>;
  /** Raw secret lengths it documents as refused by `wrap` (ProviderRefusedError). */
  refusesWrapOf(length: number): boolean;
  /** HMAC key lengths it documents as refused (at wrap or at hmacSha256). */
  refusesHmacKeyOf(length: number): boolean;
  /**
   * For a remote provider with integrity fields (Cloud KMS CRC32C): makes the server answer with a
   * checksum that does not match (true) or answer correctly again (false).
   */
  damageAnswers?(on: boolean): Promise<void>;
  /** In-provider objects cached for reuse, when the provider caches. */
  cachedKeys?(p: KeyProvider): number;
  cleanup(): Promise<void>;
}

const id = (): string => randomBytes(6).toString('hex');

export function softwareSubject(): ProviderSubject {
  let dir: string | undefined;
  const opened: KeyProvider[] = [];
  const tmp = (): string => (dir ??= mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-software-')));
  const open = async (keyFile: string): Promise<KeyProvider> => {
    const p = new SoftwareProvider({ name: 'software', keyFile });
    await p.open();
    opened.push(p);
    return p;
  };
  return {
    name: 'software',
    capabilities: { hmac: { minKeyBytes: 0 }, aesGcm: true, sign: [] },
    rootKeySizes: [32],
    make: () => open(path.join(tmp(), `${id()}.key`)),
    withRootKey(kek) {
      const file = path.join(tmp(), `${id()}.key`);
      writeFileSync(file, kek, { mode: 0o600 });
      return open(file);
    },
    refusesWrapOf: (n) => n === 0,
    refusesHmacKeyOf: () => false,
    async cleanup() {
      await Promise.all(opened.map((p) => p.close()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** PKCS#11 on SoftHSM2 2.6.1, in this test file's own token directory. */
export function softHsmSubject(): ProviderSubject {
  const opened = new Map<string, KeyProvider>();
  const open = async (rootKeyLabel: string, importRootKey?: Uint8Array): Promise<KeyProvider> => {
    const hit = opened.get(rootKeyLabel);
    if (hit) return hit;
    const { options } = testSoftHsm().token('zoo-contract');
    const p = new Pkcs11Provider({
      ...options,
      rootKeyLabel,
      ...(importRootKey ? { importRootKey } : {}),
    });
    await p.open();
    opened.set(rootKeyLabel, p);
    return p;
  };
  return {
    name: 'pkcs11/softhsm2',
    capabilities: { hmac: { minKeyBytes: 32 }, aesGcm: true, sign: ['p-256', 'secp256k1'] },
    rootKeySizes: [16, 24, 32],
    make: () => open(`root-${id()}`),
    // One token object per distinct vector key, found again by a label derived from it.
    withRootKey: (kek) =>
      open(`kek-${createHash('sha256').update(kek).digest('hex').slice(0, 24)}`, kek),
    // Its CKM_AES_KEY_WRAP_PAD zero-pads to a multiple of 8 before RFC 5649 (docs/providers.md).
    refusesWrapOf: (n) => n === 0 || n % 8 !== 0,
    // Wrap refuses unaligned keys; the device refuses HMAC keys under 32 bytes.
    refusesHmacKeyOf: (n) => n % 8 !== 0 || n < 32,
    cachedKeys: (p) => (p as Pkcs11Provider).cachedKeyCount,
    async cleanup() {
      await Promise.all([...opened.values()].map((p) => p.close()));
      opened.clear();
    },
  };
}

/**
 * The `aws-cloudhsm` setting: SoftHSM2 stands in for the CloudHSM PKCS#11 library (its token's user
 * PIN in the CU form "user:password"), and the cluster is described by fake-cloudhsm.ts.
 */
export function cloudHsmSubject(): ProviderSubject {
  let server: Promise<FakeCloudHsm> | undefined;
  let token: TestToken | undefined;
  const opened = new Map<string, CloudHsmProvider>();
  const open = async (rootKeyLabel: string, importRootKey?: Uint8Array) => {
    const hit = opened.get(rootKeyLabel);
    if (hit) return hit;
    const fake = await (server ??= startFakeCloudHsm().then((f) => {
      f.addCluster('cluster-contract');
      return f;
    }));
    // Set once, before anyone logs in: the SO cannot log in while a user session is.
    token ??= setTokenPin(testSoftHsm().token('zoo-cloudhsm'), 'kms_cu:contract-password');
    const p = new CloudHsmProvider({
      ...token.options,
      name: 'aws-cloudhsm',
      rootKeyLabel,
      ...(importRootKey ? { importRootKey } : {}),
      clusterId: 'cluster-contract',
      region: fake.region,
      endpoint: fake.endpoint,
      credentials: fake.credentials,
    });
    await p.open();
    opened.set(rootKeyLabel, p);
    return p;
  };
  return {
    name: 'pkcs11/aws-cloudhsm (SoftHSM2 standing in)',
    // The setting declares no in-device AES-GCM: CloudHSM picks the GCM IV itself.
    capabilities: { hmac: { minKeyBytes: 32 }, aesGcm: false, sign: ['p-256', 'secp256k1'] },
    rootKeySizes: [16, 24, 32],
    make: () => open(`root-${id()}`),
    withRootKey: (kek) =>
      open(`kek-${createHash('sha256').update(kek).digest('hex').slice(0, 24)}`, kek),
    refusesWrapOf: (n) => n === 0 || n % 8 !== 0,
    refusesHmacKeyOf: (n) => n % 8 !== 0 || n < 32,
    cachedKeys: (p) => (p as CloudHsmProvider).hsm.cachedKeyCount,
    async cleanup() {
      await Promise.all([...opened.values()].map((p) => p.close()));
      opened.clear();
      await (await server)?.stop();
    },
  };
}

/** Google Cloud KMS through @google-cloud/kms over gRPC and TLS, against fake-gcp-kms.ts. */
export function gcpSubject(): ProviderSubject {
  let server: Promise<FakeGcpKms> | undefined;
  const opened: KeyProvider[] = [];
  return {
    name: 'google-cloud-kms (fake server)',
    capabilities: { hmac: null, aesGcm: false, sign: [] },
    rootKeySizes: [],
    async make() {
      const fake = await (server ??= startFakeGcpKms());
      const rootKey = `root-${id()}`;
      fake.addKey('zoo-kms', rootKey);
      const p = new GcpKmsProvider({
        name: 'gcp',
        projectId: fake.projectId,
        location: 'global',
        keyRing: 'zoo-kms',
        rootKey,
        credentials: fake.credentialsFile,
        endpoint: fake.endpoint,
      });
      await p.open();
      opened.push(p);
      return p;
    },
    refusesWrapOf: (n) => n === 0,
    refusesHmacKeyOf: () => true,
    async damageAnswers(on) {
      const fake = await (server ??= startFakeGcpKms());
      fake.fault = on ? 'ciphertext-crc' : 'none';
    },
    async cleanup() {
      await Promise.all(opened.map((p) => p.close()));
      await (await server)?.stop();
    },
  };
}

export function allSubjects(): ProviderSubject[] {
  return [softwareSubject(), softHsmSubject(), cloudHsmSubject(), gcpSubject()];
}
