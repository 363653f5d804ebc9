/**
 * The `software` provider, for development only (ARCHITECTURE.md "Key hierarchy" 1): the root key
 * is a 32-byte file and every operation runs in this process with node's OpenSSL. It is refused
 * when NODE_ENV=production unless `allowInProduction` is set.
 */
import { moveBytes } from '../crypto/encoding.js';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, open as openFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  IntegrityError,
  ProviderRefusedError,
  ProviderUnavailableError,
  type Algorithm,
  type Capabilities,
  type KeyProvider,
  type SecretRef,
} from './provider.js';

export interface SoftwareProviderOptions {
  readonly name: string;
  /** Path of the 32-byte root key file; created with mode 0600 on first open. */
  readonly keyFile: string;
  /** Permits construction when NODE_ENV=production. */
  readonly allowInProduction?: boolean;
}

const ROOT_KEY_BYTES = 32;
/** RFC 5649 sec. 3: the alternative initial value, whose low half node fills with the length. */
const KWP_AIV = Buffer.from('a65959a6', 'hex');
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
/** Algorithms whose private key is exactly 32 bytes (API.md "Private keys"). */
const FIXED_32: ReadonlySet<Algorithm> = new Set([
  'aes-256-gcm',
  'secp256k1',
  'p-256',
  'ed25519',
  'bls12-381',
]);

export class SoftwareProvider implements KeyProvider {
  readonly kind = 'software';
  readonly name: string;
  readonly capabilities: Capabilities = Object.freeze({
    hmac: { minKeyBytes: 0 },
    aesGcm: true,
    sign: [],
  });
  private readonly keyFile: string;
  private root: KeyObject | undefined;

  constructor(opts: SoftwareProviderOptions) {
    if (process.env.NODE_ENV === 'production' && opts.allowInProduction !== true) {
      throw new Error(
        `software provider ${opts.name}: refused with NODE_ENV=production (its root key is a plain file); ` +
          'use a PKCS#11 or cloud provider, or set allowInProduction explicitly',
      );
    }
    this.name = opts.name;
    this.keyFile = opts.keyFile;
  }

  async open(): Promise<void> {
    if (this.root) return;
    const bytes = await loadOrCreateKeyFile(this.name, this.keyFile);
    this.root = createSecretKey(bytes);
    bytes.fill(0);
  }

  async wrap(algorithm: Algorithm, secret: Uint8Array): Promise<Uint8Array> {
    checkSecretLength(this.name, algorithm, secret);
    const cipher = createCipheriv('id-aes256-wrap-pad', this.key(), KWP_AIV);
    return new Uint8Array(Buffer.concat([cipher.update(secret), cipher.final()]));
  }

  async unwrap(_algorithm: Algorithm, wrapped: Uint8Array): Promise<Uint8Array> {
    return this.unwrapBytes(wrapped);
  }

  async hmacSha256(ref: SecretRef, data: Uint8Array): Promise<Uint8Array> {
    const key = this.unwrapBytes(ref.wrapped);
    try {
      return moveBytes(createHmac('sha256', key).update(data).digest());
    } finally {
      key.fill(0);
    }
  }

  async aesGcmEncrypt(
    ref: SecretRef,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    const key = this.gcmKey(ref, iv);
    try {
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES }).setAAD(
        aad,
      );
      return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
    } finally {
      key.fill(0);
    }
  }

  async aesGcmDecrypt(
    ref: SecretRef,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    if (sealed.length < GCM_TAG_BYTES)
      throw new IntegrityError('ciphertext shorter than the GCM tag');
    const key = this.gcmKey(ref, iv);
    const split = sealed.length - GCM_TAG_BYTES;
    try {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES }).setAAD(
        aad,
      );
      d.setAuthTag(sealed.subarray(split));
      return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, split)), d.final()]));
    } catch (e) {
      throw new IntegrityError('GCM authentication failed', { cause: e });
    } finally {
      key.fill(0);
    }
  }

  async sign(ref: SecretRef, _input: Uint8Array): Promise<Uint8Array> {
    throw new ProviderRefusedError(
      this.name,
      `no in-provider signing for ${ref.algorithm}; sign in software`,
    );
  }

  /** Nothing is cached: every operation unwraps and wipes. */
  forget(_idPrefix: string): void {}

  async health(): Promise<void> {
    const probe = randomBytes(32);
    const back = await this.unwrap('aes-256-gcm', await this.wrap('aes-256-gcm', probe));
    const ok = Buffer.from(back).equals(probe);
    probe.fill(0);
    back.fill(0);
    if (!ok) throw new ProviderUnavailableError(this.name, 'canary wrap/unwrap did not round-trip');
  }

  async close(): Promise<void> {
    this.root = undefined;
  }

  private key(): KeyObject {
    if (!this.root) throw new ProviderUnavailableError(this.name, 'not open');
    return this.root;
  }

  private unwrapBytes(wrapped: Uint8Array): Uint8Array {
    const d = createDecipheriv('id-aes256-wrap-pad', this.key(), KWP_AIV);
    try {
      const head = d.update(wrapped);
      const tail = d.final();
      const out = Buffer.concat([head, tail]);
      head.fill(0);
      tail.fill(0);
      return moveBytes(out);
    } catch (e) {
      // OpenSSL reports a bad integrity check, a bad length and a bad padding alike (RFC 5649 sec. 3).
      throw new IntegrityError('unwrap failed', { cause: e });
    }
  }

  private gcmKey(ref: SecretRef, iv: Uint8Array): Uint8Array {
    if (iv.length !== GCM_IV_BYTES) {
      throw new ProviderRefusedError(
        this.name,
        `AES-GCM needs a ${GCM_IV_BYTES}-byte IV, got ${iv.length}`,
      );
    }
    const key = this.unwrapBytes(ref.wrapped);
    if (key.length !== 32) {
      key.fill(0);
      throw new ProviderRefusedError(this.name, `${ref.id} is not an AES-256 key`);
    }
    return key;
  }
}

function checkSecretLength(provider: string, algorithm: Algorithm, secret: Uint8Array): void {
  if (secret.length === 0)
    throw new ProviderRefusedError(provider, 'AES-KWP cannot wrap an empty secret');
  if (FIXED_32.has(algorithm) && secret.length !== 32) {
    throw new ProviderRefusedError(
      provider,
      `a ${algorithm} key is 32 bytes, got ${secret.length}`,
    );
  }
}

/** Reads the root key file, or creates it (exclusively, 0600) when it does not exist yet. */
async function loadOrCreateKeyFile(name: string, file: string): Promise<Buffer> {
  try {
    return await readKeyFile(name, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const bytes = randomBytes(ROOT_KEY_BYTES);
  try {
    const fh = await openFile(file, 'wx', 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(file, 0o600);
    return bytes;
  } catch (e) {
    bytes.fill(0);
    // Another process created it between our read and our create: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(name, file);
    throw new Error(`software provider ${name}: cannot create root key file ${file}`, { cause: e });
  }
}

async function readKeyFile(name: string, file: string): Promise<Buffer> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new Error(
      `software provider ${name}: root key file ${file} is readable by others; chmod 600 it`,
    );
  }
  const bytes = await readFile(file);
  if (bytes.length !== ROOT_KEY_BYTES) {
    bytes.fill(0);
    throw new Error(
      `software provider ${name}: root key file ${file} holds ${info.size} bytes, an AES-256 root key is ${ROOT_KEY_BYTES}`,
    );
  }
  return bytes;
}
