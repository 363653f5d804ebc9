/**
 * The generic PKCS#11 provider over graphene-pk11 (ARCHITECTURE.md "Providers and failover");
 * vendors differ only by the settings in vendors.ts. Secrets are RFC 5649-wrapped under a
 * non-extractable AES root key; HMAC, AES-GCM and ECDSA run on objects unwrapped into the device
 * and cached by `ref.id`.
 *
 * Every PKCS#11 call here is synchronous, so operations never interleave: one "keeper" session
 * holds the root key handle and creates, unwraps and destroys objects (calls without operation
 * state), and a small pool runs sign/encrypt/decrypt. The cached objects belong to the keeper, and
 * PKCS#11 destroys them when it closes (v3.0 sec. 4.4). The fast operations cost 15-70 µs
 * (measurements.md), so blocking the event loop is acceptable; an async C_* call added later must
 * take its own session from the pool.
 */
import { moveBytes } from '../../crypto/encoding.js';
import type { Key, Session } from 'graphene-pk11';
import { randomBytes } from 'node:crypto';
import {
  IntegrityError,
  ProviderRefusedError,
  ProviderUnavailableError,
  type Algorithm,
  type Capabilities,
  type KeyProvider,
  type SecretRef,
} from '../provider.js';
import { connect, disconnect, type Connection } from './connection.js';
import { notOpen } from '../not-open.js';
import { isConnectionLost, mapPkcs11Error, type Pkcs11Step } from './errors.js';
import { HandleCache } from './handle-cache.js';
import { destroyQuietly, unwrapForUse, unwrapValue, wrapValue, type Usage } from './objects.js';
import * as ops from './operations.js';
import { decodePkcs8, encodePkcs8, isPkcs8Algorithm } from './pkcs8.js';
import {
  capabilitiesOf,
  checkVendor,
  vendorSettings,
  type VendorName,
  type VendorSettings,
} from './vendors.js';

export interface Pkcs11ProviderOptions {
  /** Instance name from config. */
  readonly name: string;
  /** Vendor settings to apply; default `softhsm2`. */
  readonly vendor?: VendorName;
  /** Library path; default the vendor's. */
  readonly library?: string;
  /** The token, by label and/or CK_SLOT_ID (at least one). */
  readonly tokenLabel?: string;
  readonly slot?: number;
  /** User PIN, read by the caller from `pin_file`. */
  readonly pin: string;
  /** Label of the root key; default `zoo-kms-root`. */
  readonly rootKeyLabel?: string;
  /**
   * Creates a missing root key from these bytes instead of generating it (tests replaying RFC 5649
   * vectors, migrations); open() refuses when the label exists already.
   */
  readonly importRootKey?: Uint8Array;
  /** Bound of the unwrapped-object cache; default 10,000. */
  readonly maxCachedKeys?: number;
}

const GCM_IV_BYTES = 12;
/** KWP output is the input rounded up to 8 bytes plus the 8-byte integrity block (RFC 5649 sec. 4.1). */
const AES_256_BLOB_BYTES = 40;
const FIXED_32: ReadonlySet<Algorithm> = new Set(['aes-256-gcm', 'bls12-381']);

export class Pkcs11Provider implements KeyProvider {
  readonly kind = 'pkcs11';
  readonly name: string;
  readonly vendor: VendorName;
  readonly settings: VendorSettings;
  private caps: Capabilities;
  private conn: Connection | undefined;
  private opened = false;
  /** Why open() failed, so that every later check says it (/readyz) instead of "not open". */
  private openError: Error | undefined;
  private readonly cache: HandleCache<Key>;

  constructor(private readonly opts: Pkcs11ProviderOptions) {
    this.name = opts.name;
    this.vendor = opts.vendor ?? 'softhsm2';
    checkVendor(this.name, this.vendor);
    this.settings = vendorSettings(this.vendor);
    this.caps = capabilitiesOf(this.settings);
    this.cache = new HandleCache<Key>(opts.maxCachedKeys ?? 10_000, (key) => {
      if (this.conn) destroyQuietly(this.conn.session, key);
    });
  }

  /** The vendor's settings until open(), then narrowed to the mechanisms the token lists. */
  get capabilities(): Capabilities {
    return this.caps;
  }

  /** Unwrapped objects held in the device for reuse. */
  get cachedKeyCount(): number {
    return this.cache.size;
  }

  async open(): Promise<void> {
    if (this.conn) return;
    try {
      this.conn = this.connect();
    } catch (e) {
      this.openError = e as Error;
      throw e;
    }
    this.opened = true;
    this.openError = undefined;
  }

  async wrap(algorithm: Algorithm, secret: Uint8Array): Promise<Uint8Array> {
    const value = this.encodeSecret(algorithm, secret);
    try {
      return this.guard('wrap', 'other', (c) => wrapValue(c.session, c.root, c.kwp, value));
    } finally {
      if (value !== secret) value.fill(0);
    }
  }

  async unwrap(algorithm: Algorithm, wrapped: Uint8Array): Promise<Uint8Array> {
    const raw = this.guard('unwrap', 'unwrap', (c) =>
      unwrapValue(c.session, c.root, c.kwp, wrapped),
    );
    if (!isPkcs8Algorithm(algorithm)) return raw;
    const secret = decodePkcs8(algorithm, raw);
    raw.fill(0);
    if (!secret) throw new IntegrityError(`the unwrapped key is not a ${algorithm} key`);
    return secret;
  }

  async hmacSha256(ref: SecretRef, data: Uint8Array): Promise<Uint8Array> {
    if (!this.caps.hmac) this.refuse('no in-device HMAC-SHA256');
    if (isPkcs8Algorithm(ref.algorithm)) this.refuse(`${ref.algorithm} keys are not HMAC keys`);
    return this.withKey(ref, 'hmac', 'other', (s, key) => ops.hmacSha256(s, key, data));
  }

  async aesGcmEncrypt(
    ref: SecretRef,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    this.checkGcm(ref, iv);
    return this.withKey(ref, 'aes', 'other', (s, key) =>
      ops.gcmEncrypt(s, key, iv, aad, plaintext),
    );
  }

  async aesGcmDecrypt(
    ref: SecretRef,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array> {
    this.checkGcm(ref, iv);
    if (sealed.length < ops.GCM_TAG_BYTES)
      throw new IntegrityError('ciphertext shorter than the GCM tag');
    return this.withKey(ref, 'aes', 'decrypt', (s, key) => ops.gcmDecrypt(s, key, iv, aad, sealed));
  }

  async sign(ref: SecretRef, input: Uint8Array): Promise<Uint8Array> {
    const alg = ref.algorithm;
    if (!isPkcs8Algorithm(alg) || !this.caps.sign.includes(alg))
      this.refuse(`no in-device signing for ${alg}`);
    if (alg === 'ed25519') {
      return this.withKey(ref, 'eddsa', 'other', (s, key) => ops.eddsaSign(s, key, input));
    }
    // The interface fixes the digest at SHA-256.
    if (input.length !== 32)
      this.refuse(`ECDSA input must be a 32-byte digest, got ${input.length}`);
    return this.withKey(ref, 'ecdsa', 'other', (s, key) => ops.ecdsaSign(s, key, input));
  }

  forget(idPrefix: string): void {
    if (this.conn) this.cache.deletePrefix(idPrefix);
  }

  async health(): Promise<void> {
    const probe = randomBytes(32);
    try {
      const back = await this.unwrap('aes-256-gcm', await this.wrap('aes-256-gcm', probe));
      const ok = Buffer.from(back).equals(probe);
      back.fill(0);
      if (!ok)
        throw new ProviderUnavailableError(this.name, 'canary wrap/unwrap did not round-trip');
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
    this.opened = false;
    this.drop();
  }

  private connect(): Connection {
    const o = this.opts;
    const c = connect({
      provider: this.name,
      vendor: this.vendor,
      settings: this.settings,
      library: o.library,
      tokenLabel: o.tokenLabel,
      slot: o.slot,
      pin: o.pin,
      rootKeyLabel: o.rootKeyLabel ?? 'zoo-kms-root',
      importRootKey: o.importRootKey,
    });
    this.caps = c.capabilities;
    return c;
  }

  /** The live connection, reconnecting after a lost session (the failover health check retries). */
  private connection(): Connection {
    if (this.conn) return this.conn;
    if (!this.opened) throw notOpen(this.name, this.openError);
    try {
      this.conn = this.connect();
      return this.conn;
    } catch (e) {
      if (e instanceof ProviderUnavailableError) throw e;
      throw new ProviderUnavailableError(this.name, `reconnect failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Forgets the connection; its cached objects die with its session. */
  private drop(): void {
    this.cache.abandon();
    disconnect(this.conn);
    this.conn = undefined;
  }

  private guard<T>(what: string, step: Pkcs11Step, fn: (c: Connection) => T): T {
    const c = this.connection();
    try {
      return fn(c);
    } catch (e) {
      if (isConnectionLost(e)) this.drop();
      throw mapPkcs11Error(this.name, what, e, step);
    }
  }

  /** Runs `op` on the in-device object for `ref`, unwrapping it on a cache miss. */
  private withKey(
    ref: SecretRef,
    usage: Usage,
    step: Pkcs11Step,
    op: (s: Session, key: Key) => Buffer,
  ): Uint8Array {
    const cacheKey = `${ref.id}\u0000${usage}`;
    let key = this.cache.get(cacheKey);
    if (!key) {
      key = this.guard(`unwrapping ${ref.id}`, 'unwrap', (c) =>
        unwrapForUse(c.session, c.root, c.kwp, ref.wrapped, usage),
      );
      this.cache.set(cacheKey, key);
    }
    const k = key;
    try {
      return moveBytes(
        this.guard(`${usage} with ${ref.id}`, step, (c) => c.pool.run((s) => op(s, k))),
      );
    } catch (e) {
      // A key the device will not use (e.g. an HMAC key under the minimum size) is not kept.
      if (e instanceof ProviderRefusedError && this.conn) this.cache.delete(cacheKey);
      throw e;
    }
  }

  private encodeSecret(algorithm: Algorithm, secret: Uint8Array): Uint8Array {
    if (secret.length === 0) this.refuse('AES-KWP cannot wrap an empty secret');
    if (isPkcs8Algorithm(algorithm)) {
      if (secret.length !== 32) this.refuse(`a ${algorithm} key is 32 bytes, got ${secret.length}`);
      return encodePkcs8(algorithm, secret);
    }
    if (FIXED_32.has(algorithm) && secret.length !== 32)
      this.refuse(`a ${algorithm} key is 32 bytes, got ${secret.length}`);
    if (this.settings.kwpZeroPads && secret.length % 8 !== 0) {
      // The device would wrap the value zero-padded and unwrap it padded: the length would be lost.
      this.refuse(
        `${this.vendor} wraps only secrets whose length is a multiple of 8 bytes exactly, got ${secret.length}`,
      );
    }
    return secret;
  }

  private checkGcm(ref: SecretRef, iv: Uint8Array): void {
    if (!this.caps.aesGcm) this.refuse('no in-device AES-GCM');
    if (ref.algorithm !== 'aes-256-gcm')
      this.refuse(`${ref.algorithm} keys are not AES-256-GCM keys`);
    // SoftHSM2 accepts an empty IV (measurements.md), so the length is enforced here.
    if (iv.length !== GCM_IV_BYTES)
      this.refuse(`AES-GCM needs a ${GCM_IV_BYTES}-byte IV, got ${iv.length}`);
    if (ref.wrapped.length !== AES_256_BLOB_BYTES)
      this.refuse(`${ref.id} is not a wrapped AES-256 key`);
  }

  private refuse(detail: string): never {
    throw new ProviderRefusedError(this.name, detail);
  }
}
