/**
 * Google Cloud KMS as a root-key provider (ARCHITECTURE.md "Providers and failover"): a symmetric
 * CryptoKey (purpose ENCRYPT_DECRYPT) is the root key; `wrap` is its Encrypt and `unwrap` its
 * Decrypt, so the secret is "software, wrapped by Cloud KMS" and every key stays servable by every
 * provider. Nothing else runs in Cloud KMS (capabilities { hmac: null, aesGcm: false, sign: [] }):
 * the keyring does that work in this process on the unwrapped key.
 *
 * Integrity both ways, as "Verifying end-to-end data integrity" in the Cloud KMS docs prescribes:
 * every request carries the CRC32C of its plaintext or ciphertext and of its AAD; an Encrypt answer
 * is used only if Cloud KMS says it verified both and the ciphertext matches `ciphertext_crc32c`,
 * and a Decrypt answer only if the plaintext matches `plaintext_crc32c`. A mismatch means the bytes
 * were damaged on the way: the answer is dropped and the call fails as unavailable (the caller
 * fails over), never returned.
 *
 * The AAD is `zoo-kms/wrap/v1/{algorithm}`, so a blob only ever unwraps as the algorithm it was
 * wrapped for. Credentials come from a service-account file (`credentials`), else Application
 * Default Credentials; `endpoint` (`host:port`) replaces cloudkms.googleapis.com:443, still over TLS.
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { randomBytes } from 'node:crypto';
import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type Algorithm,
  type Capabilities,
  type KeyProvider,
  type SecretRef,
} from '../provider.js';
import { notOpen } from '../not-open.js';
import { crc32c } from './crc32c.js';
import { codeName, grpcCode, mapGcpError } from './errors.js';

export interface GcpKmsProviderOptions {
  readonly name: string;
  readonly projectId: string;
  readonly location: string;
  readonly keyRing: string;
  /** The CryptoKey id of the root key. */
  readonly rootKey: string;
  /** Service-account JSON key file; default Application Default Credentials. */
  readonly credentials?: string;
  /** `host:port` instead of cloudkms.googleapis.com:443. */
  readonly endpoint?: string;
  /** Deadline of one call; default 10 s. Calls are not retried here: the provider set fails over. */
  readonly timeoutMs?: number;
}

/** Cloud KMS refuses Encrypt plaintexts over 64 KiB; every secret here is far smaller. */
const MAX_PLAINTEXT = 64 * 1024;
const FIXED_32: ReadonlySet<Algorithm> = new Set([
  'aes-256-gcm',
  'secp256k1',
  'p-256',
  'ed25519',
  'bls12-381',
]);

type Int64Value = { value?: number | string | { toString(): string } | null } | null | undefined;

export class GcpKmsProvider implements KeyProvider {
  readonly kind = 'google-cloud-kms';
  readonly name: string;
  readonly capabilities: Capabilities = Object.freeze({ hmac: null, aesGcm: false, sign: [] });
  readonly keyName: string;
  private client: KeyManagementServiceClient | undefined;
  /** Why open() failed, so that every later check says it (/readyz) instead of "not open". */
  private openError: Error | undefined;

  constructor(private readonly opts: GcpKmsProviderOptions) {
    this.name = opts.name;
    const o = opts;
    this.keyName = `projects/${o.projectId}/locations/${o.location}/keyRings/${o.keyRing}/cryptoKeys/${o.rootKey}`;
  }

  /** Connects and checks that the root key exists, encrypts and has an enabled primary version. */
  async open(): Promise<void> {
    if (this.client) return;
    let client: KeyManagementServiceClient | undefined;
    try {
      client = new KeyManagementServiceClient(this.clientOptions());
      await this.checkRootKey(client);
    } catch (e) {
      await client?.close().catch(() => undefined);
      this.openError = e as Error;
      throw e;
    }
    this.openError = undefined;
    this.client = client;
  }

  async wrap(algorithm: Algorithm, secret: Uint8Array): Promise<Uint8Array> {
    this.checkSecret(algorithm, secret);
    const aad = aadOf(algorithm);
    // The request's copies of the secret (one per attempt) are wiped once the call is over.
    const copies: Buffer[] = [];
    const [res] = await this.call('encrypt', (c) => {
      const plaintext = Buffer.from(secret);
      copies.push(plaintext);
      return c.encrypt(
        {
          name: this.keyName,
          plaintext,
          additionalAuthenticatedData: aad,
          plaintextCrc32c: { value: crc32c(secret) },
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.callOptions(),
      );
    }).finally(() => copies.forEach((b) => b.fill(0)));
    const ciphertext = new Uint8Array(bytesOf(res.ciphertext));
    if (!res.verifiedPlaintextCrc32c || !res.verifiedAdditionalAuthenticatedDataCrc32c)
      throw this.damaged('Encrypt did not verify the request CRC32C');
    if (!crcMatches(res.ciphertextCrc32c, ciphertext))
      throw this.damaged('the ciphertext does not match ciphertext_crc32c');
    return ciphertext;
  }

  async unwrap(algorithm: Algorithm, wrapped: Uint8Array): Promise<Uint8Array> {
    const aad = aadOf(algorithm);
    const [res] = await this.call('decrypt', (c) =>
      c.decrypt(
        {
          name: this.keyName,
          ciphertext: Buffer.from(wrapped),
          additionalAuthenticatedData: aad,
          ciphertextCrc32c: { value: crc32c(wrapped) },
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.callOptions(),
      ),
    );
    const received = bytesOf(res.plaintext);
    const plaintext = new Uint8Array(received);
    received.fill(0);
    if (!crcMatches(res.plaintextCrc32c, plaintext)) {
      plaintext.fill(0);
      throw this.damaged('the plaintext does not match plaintext_crc32c');
    }
    return plaintext;
  }

  async hmacSha256(_ref: SecretRef, _data: Uint8Array): Promise<Uint8Array> {
    return this.inProcess('HMAC-SHA256');
  }

  async aesGcmEncrypt(_ref: SecretRef): Promise<Uint8Array> {
    return this.inProcess('AES-256-GCM');
  }

  async aesGcmDecrypt(_ref: SecretRef): Promise<Uint8Array> {
    return this.inProcess('AES-256-GCM');
  }

  async sign(ref: SecretRef): Promise<Uint8Array> {
    return this.inProcess(`${ref.algorithm} signing`);
  }

  /** Nothing is cached here: the keyring caches unwrapped secrets itself. */
  forget(_idPrefix: string): void {}

  /** The canary: Encrypt then Decrypt of 32 random bytes under the root key, CRC32C checked. */
  async health(): Promise<void> {
    const probe = randomBytes(32);
    try {
      const back = await this.unwrap('aes-256-gcm', await this.wrap('aes-256-gcm', probe));
      const ok = Buffer.from(back).equals(probe);
      back.fill(0);
      if (!ok) throw new ProviderUnavailableError(this.name, 'canary did not round-trip');
    } catch (e) {
      if (e instanceof ProviderUnavailableError) throw e;
      throw new ProviderUnavailableError(this.name, `canary failed: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      probe.fill(0);
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
  }

  private clientOptions(): ConstructorParameters<typeof KeyManagementServiceClient>[0] {
    const o = this.opts;
    const endpoint = o.endpoint ? parseEndpoint(this.name, o.endpoint) : undefined;
    return {
      ...(o.credentials ? { keyFilename: o.credentials } : {}),
      ...(endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port } : {}),
    };
  }

  private callOptions() {
    return { timeout: this.opts.timeoutMs ?? 10_000, retry: null };
  }

  private async checkRootKey(client: KeyManagementServiceClient): Promise<void> {
    let key;
    try {
      [key] = await client.getCryptoKey({ name: this.keyName }, this.callOptions());
    } catch (e) {
      const code = grpcCode(e);
      const problem =
        code === 5
          ? 'does not exist (NOT_FOUND); create it, or check project_id, location, key_ring and root_key'
          : `cannot be read (${codeName(code)}): ${(e as { details?: string }).details ?? (e as Error).message}`;
      throw new Error(
        `google-cloud-kms provider ${this.name}: root key ${this.keyName} ${problem}`,
        {
          cause: e,
        },
      );
    }
    const purpose = String(key.purpose);
    const state = String(key.primary?.state ?? 'none');
    if (purpose !== 'ENCRYPT_DECRYPT' || state !== 'ENABLED') {
      throw new Error(
        `google-cloud-kms provider ${this.name}: root key ${this.keyName} must be a symmetric ENCRYPT_DECRYPT key ` +
          `with an ENABLED primary version (purpose ${purpose}, primary ${state})`,
      );
    }
  }

  private async call<T>(
    what: 'encrypt' | 'decrypt',
    fn: (c: KeyManagementServiceClient) => Promise<T>,
  ): Promise<T> {
    if (!this.client) throw notOpen(this.name, this.openError);
    try {
      return await fn(this.client);
    } catch (e) {
      throw mapGcpError(this.name, what, e);
    }
  }

  private checkSecret(algorithm: Algorithm, secret: Uint8Array): void {
    if (secret.length === 0) this.refuse('cannot wrap an empty secret');
    if (FIXED_32.has(algorithm) && secret.length !== 32)
      this.refuse(`a ${algorithm} key is 32 bytes, got ${secret.length}`);
    if (secret.length > MAX_PLAINTEXT) this.refuse(`secrets are at most ${MAX_PLAINTEXT} bytes`);
  }

  private damaged(detail: string): ProviderUnavailableError {
    return new ProviderUnavailableError(
      this.name,
      `response failed its integrity check: ${detail}`,
    );
  }

  /** Work on keys is not Cloud KMS's here (capabilities): the keyring does it on the unwrapped key. */
  private inProcess(what: string): never {
    this.refuse(
      `${what} does not run in Cloud KMS; the KMS runs it in process on the unwrapped key`,
    );
  }

  private refuse(detail: string): never {
    throw new ProviderRefusedError(this.name, detail);
  }
}

/** A protobuf `bytes` field as decoded by the client: bytes, or base64 in its JSON form. */
function bytesOf(v: Uint8Array | string | null | undefined): Uint8Array {
  if (v === null || v === undefined) return new Uint8Array(0);
  return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
}

function aadOf(algorithm: Algorithm): Buffer {
  return Buffer.from(`zoo-kms/wrap/v1/${algorithm}`, 'utf8');
}

/** Whether an Int64Value checksum from a response equals the CRC32C of `data`. */
function crcMatches(field: Int64Value, data: Uint8Array): boolean {
  const v = field?.value;
  if (v === undefined || v === null) return false;
  return String(v) === String(crc32c(data));
}

function parseEndpoint(provider: string, endpoint: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(endpoint);
  if (!m) {
    throw new Error(
      `google-cloud-kms provider ${provider}: endpoint must be host or host:port, got ${endpoint}`,
    );
  }
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 443 };
}
