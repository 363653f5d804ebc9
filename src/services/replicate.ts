/**
 * Replicate keys (API.md "Replicate", HIP-0302): the age recipients and identities of a service's
 * backup sidecar. A master per (ecosystem, env), the hmac-sha256 key `replicate-master.{ecosystem}.{env}`,
 * is made on first use (or imported by an admin) and stored wrapped like any key. Each 32-byte
 * identity seed is HKDF-Expand keyed by one master version, run through the provider's HMAC
 * (ARCHITECTURE.md "Key hierarchy" item 4):
 *   seed = Expand(master_v, "{ecosystem}:replicate:{env}:{service}:{kind}:v{v}", 32)
 * An identity leaves only encrypted to the caller's ephemeral `wrapTo` recipient.
 */
import { KmsError, invalid, isKmsError } from '../errors.js';
import { auditRefusal, audited } from '../audit/log.js';
import { digestOf, type AuditFields } from '../audit/event.js';
import { hkdfExpand } from '../crypto/hkdf.js';
import {
  AGE_SEED_BYTES,
  DEFAULT_AGE_KIND,
  encryptArmored,
  identityBytes,
  isAgeKind,
  recipientForm,
  recipientOf,
  type AgeKind,
} from '../crypto/age-identity.js';
import { activeVersion, type KeyRecord, type KeyVersionRecord } from '../keyring/record.js';
import { loadKey } from '../keyring/repository.js';
import { SecretCache } from '../keyring/secret-cache.js';
import { replicateInScope } from './auth.js';
import { usableActive, usableVersion, type KeysService } from './keys.js';
import type { Caller, ServiceDeps } from './context.js';

export const ECOSYSTEMS = ['hanzo', 'lux', 'zoo'] as const;
const SEGMENT = /^[a-z0-9-]{1,63}$/;
/** Derived seeds kept per (master, version, service, kind); enough for every sidecar of a fleet. */
const SEED_CACHE_SIZE = 4096;
const SEED_TTL_MS = 10 * 60_000;

export interface Target {
  readonly ecosystem: string;
  readonly env: string;
  readonly service: string;
}
export type EnvTarget = Omit<Target, 'service'>;

export interface Recipients {
  readonly keyVersion: number;
  readonly recipients: Record<AgeKind, string>;
  readonly s3Prefix: string;
}

export interface IdentityRequest {
  readonly wrapTo: string;
  readonly kind?: string | undefined;
  readonly keyVersion?: number | undefined;
}

export function masterName(t: EnvTarget): string {
  return `replicate-master.${t.ecosystem}.${t.env}`;
}

/** The HKDF info of ARCHITECTURE.md item 4, with the ecosystem's HIP-0302 domain prefix. */
export function seedInfo(t: Target, kind: AgeKind, version: number): Uint8Array {
  return new TextEncoder().encode(
    `${t.ecosystem}:replicate:${t.env}:${t.service}:${kind}:v${version}`,
  );
}

/** API.md "Replicate": ecosystem hanzo|lux|zoo and enabled in config; env, service [a-z0-9-]{1,63}. */
export function checkTarget<T extends { ecosystem: string; env: string; service?: string }>(
  enabled: readonly string[],
  raw: T,
): T {
  if (!(ECOSYSTEMS as readonly string[]).includes(raw.ecosystem))
    throw invalid('ecosystem', `must be one of ${ECOSYSTEMS.join(', ')}`);
  if (!enabled.includes(raw.ecosystem))
    throw invalid(
      'ecosystem',
      `${raw.ecosystem} is not enabled (replicate.ecosystems: ${enabled.join(', ')})`,
    );
  if (!SEGMENT.test(raw.env)) throw invalid('env', 'must match [a-z0-9-]{1,63}');
  if (raw.service !== undefined && !SEGMENT.test(raw.service))
    throw invalid('service', 'must match [a-z0-9-]{1,63}');
  return raw;
}

const SYSTEM = { name: 'system', role: 'admin', scopes: [], certificateFingerprints: [] } as const;

export class ReplicateService {
  /** Seeds are secrets: bounded, wiped on eviction, dropped on any key change (destroy, retire, rotate). */
  private readonly seeds = new SecretCache(SEED_CACHE_SIZE, SEED_TTL_MS);
  private readonly recipientCache = new Map<string, string>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {
    deps.invalidations.on('keys', () => {
      this.seeds.clear();
      this.recipientCache.clear();
    });
  }

  /** Wipes the derived seeds (at shutdown). */
  close(): void {
    this.seeds.clear();
    this.recipientCache.clear();
  }

  async recipients(caller: Caller, raw: Target): Promise<Recipients> {
    const base = this.fields(caller, 'replicate.recipients', raw);
    const { t, key, version } = await this.attempt(base, async () => {
      const t = this.admit(caller, raw);
      const key = await this.master(caller, t);
      return { t, key, version: usableActive(key) };
    });
    const fields = { ...base, keyVersion: version.version };
    const [mlkem768x25519, x25519] = await this.attempt(fields, () =>
      Promise.all([
        this.recipientFor(key, version, t, 'mlkem768x25519'),
        this.recipientFor(key, version, t, 'x25519'),
      ]),
    );
    await audited(this.deps.audit, this.deps.writer, fields);
    return {
      keyVersion: version.version,
      recipients: { mlkem768x25519, x25519 },
      s3Prefix: `s3://${t.ecosystem}-replicate-${t.env}/${t.service}/`,
    };
  }

  async identity(
    caller: Caller,
    raw: Target,
    req: IdentityRequest,
  ): Promise<{ keyVersion: number; kind: AgeKind; identity: string }> {
    const base = this.fields(caller, 'replicate.identity', raw, req.wrapTo);
    const { t, kind, key, version } = await this.attempt(base, async () => {
      const t = this.admit(caller, raw);
      const kind = req.kind ?? DEFAULT_AGE_KIND;
      if (!isAgeKind(kind)) throw invalid('kind', 'must be mlkem768x25519 or x25519');
      recipientForm('wrapTo', req.wrapTo);
      const key = await this.master(caller, t);
      return {
        t,
        kind,
        key,
        version:
          req.keyVersion === undefined ? usableActive(key) : usableVersion(key, req.keyVersion),
      };
    });
    const fields = { ...base, keyVersion: version.version, details: { ...base.details, kind } };
    const identity = await this.attempt(fields, async () => {
      const plaintext = await this.withSeed(key, version, t, kind, (seed) =>
        identityBytes(kind, seed),
      );
      try {
        return await encryptArmored('wrapTo', req.wrapTo, plaintext);
      } finally {
        plaintext.fill(0);
      }
    });
    await audited(this.deps.audit, this.deps.writer, fields);
    return { keyVersion: version.version, kind, identity };
  }

  /** Admin: a new master version (the first one when none exists yet). */
  async rotate(caller: Caller, raw: EnvTarget): Promise<{ keyVersion: number }> {
    const t = await this.attempt(this.fields(caller, 'replicate.rotate', raw), async () =>
      checkTarget(this.deps.config.replicate.ecosystems, raw),
    );
    const existing = await this.deps.keyring.get(masterName(t));
    const key = existing
      ? await this.keys.rotate(caller, masterName(t))
      : await this.master(caller, t, caller);
    return { keyVersion: activeVersion(key)!.version };
  }

  /** A refusal decided before this service ran (role, schema, rate limit): the call's one event. */
  async auditEarlyRefusal(
    caller: Caller,
    action: string,
    raw: EnvTarget & { service?: string },
    error: KmsError,
  ): Promise<void> {
    await auditRefusal(
      this.deps.audit,
      this.deps.writer,
      this.fields(caller, action, raw),
      error,
    ).catch((e: unknown) => {
      if (e !== error) throw e;
    });
  }

  private admit(caller: Caller, raw: Target): Target {
    const t = checkTarget(this.deps.config.replicate.ecosystems, raw);
    if (!replicateInScope(caller.principal, t.ecosystem, t.env, t.service)) {
      throw new KmsError(
        'FORBIDDEN',
        `${t.ecosystem}/${t.env}/${t.service} is outside the caller's replicate scopes`,
      );
    }
    return t;
  }

  /**
   * The master of (ecosystem, env), made on first use under the store lock; the losers of a race
   * (other requests, other instances) re-check the store and find the winner's key.
   */
  private async master(caller: Caller, t: EnvTarget, creator?: Caller): Promise<KeyRecord> {
    const name = masterName(t);
    const key =
      (await this.deps.keyring.get(name)) ??
      (await this.deps.lock.withLock(name, () =>
        this.firstUse(name, creator ?? { principal: SYSTEM, requestId: caller.requestId }),
      ));
    if (key.purpose !== 'replicate-master')
      throw new KmsError('WRONG_PURPOSE', `key ${name} has purpose ${key.purpose}`);
    if (key.destroyedAt !== null)
      throw new KmsError(
        'KEY_DESTROYED',
        `key ${name} was destroyed; create or import a new master`,
      );
    return key;
  }

  private async firstUse(name: string, creator: Caller): Promise<KeyRecord> {
    if (!(await loadKey(this.deps.db, name))) {
      const spec = { name, algorithm: 'hmac-sha256', purpose: 'replicate-master' };
      // Creating a key does not invalidate the keyring's memory of a missing name, which a request
      // arriving meanwhile may have renewed; create's re-read can then say NOT_FOUND after the
      // commit. The key exists either way: it is read again below.
      await this.keys.create(creator, spec).catch((e: unknown) => {
        if (!(isKmsError(e) && e.code === 'NOT_FOUND')) throw e;
      });
    }
    // Forget the missing name (as bootstrap does) and re-read in the same tick, so nothing renews it.
    this.deps.keyring.forgetAll();
    return this.keys.require(name);
  }

  private async recipientFor(
    key: KeyRecord,
    version: KeyVersionRecord,
    t: Target,
    kind: AgeKind,
  ): Promise<string> {
    const id = cacheId(key, version, t, kind);
    const hit = this.recipientCache.get(id);
    if (hit) return hit;
    const recipient = await this.withSeed(key, version, t, kind, (seed) => recipientOf(kind, seed));
    if (this.recipientCache.size >= SEED_CACHE_SIZE)
      this.recipientCache.delete(this.recipientCache.keys().next().value as string);
    this.recipientCache.set(id, recipient);
    return recipient;
  }

  /** Runs `use` synchronously with the seed (borrowed from the cache: it must not be kept). */
  private async withSeed<T>(
    key: KeyRecord,
    version: KeyVersionRecord,
    t: Target,
    kind: AgeKind,
    use: (seed: Uint8Array) => T,
  ): Promise<T> {
    const id = cacheId(key, version, t, kind);
    const cached = this.seeds.get(id);
    if (cached) return use(cached);
    const generation = this.seeds.generation;
    const seed = await hkdfExpand(
      (data) => this.deps.keyring.hmac(key, version, data),
      seedInfo(t, kind, version.version),
      AGE_SEED_BYTES,
    );
    if (this.seeds.set(id, seed, generation)) return use(seed);
    // A key changed while the seed was derived (its version destroyed, say): used once, wiped.
    try {
      return use(seed);
    } finally {
      seed.fill(0);
    }
  }

  /** Runs `work`; a failure is audited under `fields` (one event) and rethrown. */
  private async attempt<T>(fields: AuditFields, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      return audited(this.deps.audit, this.deps.writer, fields, async () => {
        throw e;
      });
    }
  }

  /** Audit fields: the target when well-formed, and a digest of every input (never a seed or identity). */
  private fields(
    caller: Caller,
    action: string,
    raw: { ecosystem: string; env: string; service?: string },
    wrapTo?: string,
  ) {
    const wellFormed =
      (ECOSYSTEMS as readonly string[]).includes(raw.ecosystem) &&
      [raw.env, raw.service ?? 'x'].every((s) => SEGMENT.test(s));
    return {
      action,
      principal: caller.principal.name,
      keyName: wellFormed ? masterName(raw) : null,
      keyVersion: null,
      requestId: caller.requestId,
      digest: digestOf(raw.ecosystem, raw.env, raw.service ?? '', wrapTo ?? ''),
      details: wellFormed
        ? {
            ecosystem: raw.ecosystem,
            env: raw.env,
            ...(raw.service === undefined ? {} : { service: raw.service }),
          }
        : null,
    };
  }
}

function cacheId(key: KeyRecord, version: KeyVersionRecord, t: Target, kind: AgeKind): string {
  return `${key.id}:${version.version}:${t.service}:${kind}`;
}
