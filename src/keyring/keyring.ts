/**
 * Resolves keys to material or to in-provider operations (ARCHITECTURE.md "Key hierarchy", items 2
 * and 3). Work runs inside a provider whenever its capability table allows; otherwise the secret is
 * unwrapped into a bounded, wiped-on-eviction cache for the operation. Key records are cached too,
 * and dropped the moment a change commits here or within the poll interval on other instances.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Invalidations } from '../store/invalidation.js';
import { KmsError, isKmsError } from '../errors.js';
import type {
  Algorithm,
  DeviceSignAlgorithm,
  KeyProvider,
  SecretRef,
} from '../providers/provider.js';
import { ProviderRefusedError, ProviderUnavailableError } from '../providers/provider.js';
import type { ProviderSet } from '../providers/set.js';
import { findVersion, secretId, type KeyRecord, type KeyVersionRecord } from './record.js';
import { loadKey } from './repository.js';
import { SecretCache } from './secret-cache.js';
import { moveBytes } from '../crypto/encoding.js';

export interface KeyringOptions {
  readonly db: Kysely<Database>;
  readonly providers: ProviderSet;
  readonly invalidations: Invalidations;
  readonly secretCacheSize?: number;
  readonly secretTtlMs?: number;
  /**
   * The public key of unwrapped material, compared with the version's recorded one before the
   * secret is used: a wrap copied onto another key's row in the database is refused, never used.
   */
  readonly publicKeyOf?: (
    algorithm: KeyRecord['algorithm'],
    secret: Uint8Array,
  ) => Uint8Array | null;
}

export class Keyring {
  private readonly records = new Map<string, Promise<KeyRecord | undefined>>();
  private readonly secrets: SecretCache;

  constructor(private readonly opts: KeyringOptions) {
    this.secrets = new SecretCache(opts.secretCacheSize, opts.secretTtlMs);
    opts.invalidations.on('keys', () => this.forgetAll());
  }

  get providers(): ProviderSet {
    return this.opts.providers;
  }

  /** The key named `name`, from cache or store. */
  get(name: string): Promise<KeyRecord | undefined> {
    let p = this.records.get(name);
    if (!p) {
      // Misses are not cached: a key created here or on another instance is found at once.
      p = loadKey(this.opts.db, name).then(
        (key) => {
          if (!key && this.records.get(name) === p) this.records.delete(name);
          return key;
        },
        (e: unknown) => {
          this.records.delete(name);
          throw new KmsError('STORE_UNAVAILABLE', undefined, { cause: e });
        },
      );
      this.records.set(name, p);
    }
    return p;
  }

  /** Drops one key's cached record, secrets and provider handles (after a local change). */
  forget(key: KeyRecord): void {
    this.records.delete(key.name);
    this.secrets.deletePrefix(`${key.id}:`);
    for (const p of this.opts.providers.providers) p.forget(`${key.id}:`);
  }

  forgetAll(): void {
    this.records.clear();
    this.secrets.clear();
    for (const p of this.opts.providers.providers) p.forget('');
  }

  /**
   * Wraps `secret` once per healthy provider (ARCHITECTURE.md item 2); needs at least one. A
   * provider that is down gets its blob later from the wrap repair (repair.ts); a refusal is not an
   * outage, so it fails the operation rather than take the provider out.
   */
  async wrapForAll(algorithm: Algorithm, secret: Uint8Array): Promise<Map<string, Uint8Array>> {
    const wraps = new Map<string, Uint8Array>();
    const healthy = this.opts.providers.healthy();
    const results = await Promise.allSettled(healthy.map((p) => p.wrap(algorithm, secret)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') wraps.set(healthy[i]!.name, r.value);
      else if (r.reason instanceof ProviderUnavailableError)
        this.opts.providers.markDown(healthy[i]!.name, r.reason.message);
      else throw r.reason;
    });
    if (wraps.size === 0) throw new KmsError('PROVIDER_UNAVAILABLE');
    return wraps;
  }

  /** Runs `fn` with the unwrapped secret of one version; the bytes are borrowed from the cache. */
  async withSecret<T>(
    key: KeyRecord,
    version: KeyVersionRecord,
    fn: (secret: Uint8Array) => T | Promise<T>,
  ): Promise<T> {
    const id = secretId(key, version.version);
    const cached = this.secrets.get(id);
    if (cached) return fn(cached);
    const generation = this.secrets.generation;
    const secret = await this.opts.providers.run(
      (p) => p.unwrap(key.algorithm, version.wraps.get(p.name)!),
      (p) => version.wraps.has(p.name),
    );
    this.checkBinding(key, version, secret);
    if (this.secrets.set(id, secret, generation)) return fn(secret);
    // The key changed while it was unwrapped (destroyed, say): used once, not kept.
    try {
      return await fn(secret);
    } finally {
      secret.fill(0);
    }
  }

  private checkBinding(key: KeyRecord, version: KeyVersionRecord, secret: Uint8Array): void {
    const derived = version.publicKey ? this.opts.publicKeyOf?.(key.algorithm, secret) : null;
    if (!derived || timingSafeEqualBytes(derived, version.publicKey!)) return;
    secret.fill(0);
    throw new KmsError(
      'INTERNAL',
      `the stored material of ${key.name} v${version.version} does not match its public key`,
    );
  }

  /** HMAC-SHA256 with a key version: inside a provider when one can, otherwise in memory. */
  async hmac(key: KeyRecord, version: KeyVersionRecord, data: Uint8Array): Promise<Uint8Array> {
    const inDevice = (p: KeyProvider) =>
      version.wraps.has(p.name) &&
      p.capabilities.hmac !== null &&
      p.capabilities.hmac.minKeyBytes <= 32;
    if (this.opts.providers.serving().some(inDevice)) {
      try {
        return await this.opts.providers.run(
          (p) => p.hmacSha256(this.ref(key, version, p), data),
          inDevice,
        );
      } catch (e) {
        // A refusal, or the last device that could do it going down mid-request while another
        // provider still holds the key (a Cloud KMS backup, say, which has no HMAC of its own):
        // then the request goes on in memory rather than fail (docs/providers.md).
        const lostDevice =
          isKmsError(e) &&
          e.code === 'PROVIDER_UNAVAILABLE' &&
          !this.opts.providers.serving().some(inDevice);
        if (!(e instanceof ProviderRefusedError) && !lostDevice) throw e;
      }
    }
    return this.withSecret(key, version, (secret) =>
      moveBytes(createHmac('sha256', secret).update(data).digest()),
    );
  }

  /** Whether some healthy provider can do `op` inside itself with this version. */
  canInDevice(version: KeyVersionRecord, op: 'aesGcm' | DeviceSignAlgorithm): boolean {
    return this.opts.providers
      .serving()
      .some(
        (p) =>
          version.wraps.has(p.name) &&
          (op === 'aesGcm' ? p.capabilities.aesGcm : p.capabilities.sign.includes(op)),
      );
  }

  /** Runs a device operation on the first healthy provider that can and holds this version. */
  inDevice<T>(
    key: KeyRecord,
    version: KeyVersionRecord,
    op: 'aesGcm' | DeviceSignAlgorithm,
    fn: (p: KeyProvider, ref: SecretRef) => Promise<T>,
  ): Promise<T> {
    return this.opts.providers.run(
      (p) => fn(p, this.ref(key, version, p)),
      (p) =>
        version.wraps.has(p.name) &&
        (op === 'aesGcm' ? p.capabilities.aesGcm : p.capabilities.sign.includes(op)),
    );
  }

  ref(key: KeyRecord, version: KeyVersionRecord, p: KeyProvider): SecretRef {
    return {
      id: secretId(key, version.version),
      algorithm: key.algorithm,
      wrapped: version.wraps.get(p.name)!,
    };
  }

  version(key: KeyRecord, n: number): KeyVersionRecord | undefined {
    return findVersion(key, n);
  }

  close(): void {
    this.secrets.clear();
  }
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
