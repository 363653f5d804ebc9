/**
 * Key administration (API.md "Keys"): create, import, rotate, enable/disable, retire and destroy
 * versions. Material is generated or checked, wrapped once per provider outside the transaction,
 * then the rows and the audit event commit together.
 */
import { randomUUID } from 'node:crypto';
import { KmsError, invalid } from '../errors.js';
import { ALGORITHMS, type Algorithm } from '../providers/provider.js';
import { audited } from '../audit/log.js';
import { digestOf } from '../audit/event.js';
import { assertImportable, generateSecret, publicKeyOf } from '../keyring/material.js';
import {
  activeVersion,
  findVersion,
  type KeyRecord,
  type Purpose,
  type Residency,
} from '../keyring/record.js';
import { destroyVersions, insertKey, insertVersion, lockKey } from '../keyring/repository.js';
import type { Trx } from '../store/writer.js';
import type { Caller, ServiceDeps } from './context.js';

export const API_PURPOSES = [
  'validator',
  'bridge',
  'signing',
  'encryption',
  'derivation',
  'experience-master',
  'replicate-master',
] as const;

/** Which algorithms each purpose takes (API.md "Keys"). */
const PURPOSE_ALGORITHMS: Record<Purpose, readonly Algorithm[]> = {
  validator: ['bls12-381'],
  bridge: ['bls12-381'],
  signing: ['secp256k1', 'ed25519', 'p-256', 'ml-dsa-65', 'hmac-sha256'],
  encryption: ['aes-256-gcm'],
  derivation: ['hmac-sha256'],
  'experience-master': ['hmac-sha256'],
  'replicate-master': ['hmac-sha256'],
  'audit-checkpoint': ['ed25519'],
};

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NON_ROTATING: readonly Purpose[] = ['validator', 'bridge'];

export interface KeySpec {
  readonly name: string;
  readonly algorithm: string;
  readonly purpose: string;
  readonly chains?: readonly bigint[] | undefined;
  readonly jwks?: boolean | undefined;
  readonly residency?: string | undefined;
  readonly provider?: string | undefined;
}

interface CheckedSpec {
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly purpose: Purpose;
  readonly chains: readonly bigint[];
  readonly jwks: boolean;
  readonly residency: Residency;
}

export class KeysService {
  constructor(private readonly deps: ServiceDeps) {}

  /** A key that exists and is in use (not destroyed as a whole), or 404. */
  async require(name: string): Promise<KeyRecord> {
    const key = await this.deps.keyring.get(name);
    if (!key) throw new KmsError('NOT_FOUND', `key ${name} does not exist`);
    return key;
  }

  async create(caller: Caller, spec: KeySpec, internal = false): Promise<KeyRecord> {
    const checked = this.checkSpec(spec, internal);
    const secret = generateSecret(checked.algorithm);
    try {
      return await this.store(caller, 'key.create', checked, secret);
    } finally {
      secret.fill(0);
    }
  }

  /** Imports caller-supplied material; the caller's buffer is wiped here. */
  async import(caller: Caller, spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
    try {
      const checked = this.checkSpec(spec, false);
      assertImportable(checked.algorithm, secret);
      return await this.store(caller, 'key.import', checked, secret);
    } finally {
      secret.fill(0);
    }
  }

  private checkSpec(spec: KeySpec, internal: boolean): CheckedSpec {
    if (!KEY_NAME.test(spec.name))
      throw invalid('name', 'must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}');
    if (!(ALGORITHMS as readonly string[]).includes(spec.algorithm))
      throw invalid('algorithm', `must be one of ${ALGORITHMS.join(', ')}`);
    const purposes: readonly string[] = internal ? Object.keys(PURPOSE_ALGORITHMS) : API_PURPOSES;
    if (!purposes.includes(spec.purpose))
      throw invalid('purpose', `must be one of ${API_PURPOSES.join(', ')}`);
    const algorithm = spec.algorithm as Algorithm;
    const purpose = spec.purpose as Purpose;
    if (!PURPOSE_ALGORITHMS[purpose].includes(algorithm)) {
      throw invalid(
        'algorithm',
        `${algorithm} cannot have purpose ${purpose} (allowed: ${PURPOSE_ALGORITHMS[purpose].join(', ')})`,
      );
    }
    if (!internal) this.checkReservedName(spec.name, purpose);
    const residency = spec.residency ?? 'wrapped';
    if (residency !== 'wrapped' && residency !== 'provider')
      throw invalid('residency', 'must be wrapped or provider');
    if (spec.provider !== undefined && residency !== 'provider')
      throw invalid(
        'provider',
        'is only for residency provider (a wrapped key is in every provider)',
      );
    if (residency === 'provider') {
      if (spec.provider === undefined)
        throw invalid('provider', 'is required with residency provider');
      if (!this.deps.keyring.providers.providers.some((p) => p.name === spec.provider))
        throw invalid('provider', 'names no configured provider');
      throw new KmsError(
        'UNSUPPORTED',
        `residency provider is not available for ${algorithm} on the configured providers; use residency wrapped`,
      );
    }
    const chainBound = purpose === 'validator' || purpose === 'bridge';
    if (spec.chains && !chainBound)
      throw invalid('chains', 'is only for validator and bridge keys');
    const known = this.deps.config.chains.map((c) => c.id);
    const chains = chainBound ? (spec.chains ?? known) : [];
    chains.forEach((c, i) => {
      if (!known.includes(c))
        throw invalid(
          `chains[${i}]`,
          `chain ${c} has no profile in the config (known: ${known.join(', ')})`,
        );
    });
    return {
      name: spec.name,
      algorithm,
      purpose,
      chains,
      jwks: spec.jwks ?? false,
      residency: residency as Residency,
    };
  }

  private checkReservedName(name: string, purpose: Purpose): void {
    if (name === 'audit-checkpoint')
      throw invalid('name', 'audit-checkpoint is reserved for the audit log');
    if ((name === 'experience-master') !== (purpose === 'experience-master')) {
      throw invalid(
        'name',
        'the experience master is the key named experience-master, with purpose experience-master',
      );
    }
    const replicate = /^replicate-master\.(hanzo|lux|zoo)\.[a-z0-9-]{1,63}$/.test(name);
    if (replicate !== (purpose === 'replicate-master')) {
      throw invalid(
        'name',
        'replicate masters are named replicate-master.{ecosystem}.{env}, with purpose replicate-master',
      );
    }
  }

  private async store(
    caller: Caller,
    action: string,
    spec: CheckedSpec,
    secret: Uint8Array,
  ): Promise<KeyRecord> {
    const publicKey = publicKeyOf(spec.algorithm, secret, this.deps.bls);
    const wraps = await this.deps.keyring.wrapForAll(spec.algorithm, secret);
    const id = randomUUID();
    const now = this.deps.now();
    await audited(
      this.deps.audit,
      this.deps.writer,
      this.event(caller, action, spec.name, 1),
      async (trx) => {
        await this.replaceDestroyed(trx, spec.name);
        const chainBound = spec.purpose === 'validator' || spec.purpose === 'bridge';
        await insertKey(
          trx,
          { id, ...spec, chains: chainBound ? spec.chains : null, provider: null },
          now,
        );
        await insertVersion(trx, id, 1, publicKey, wraps, now);
      },
    );
    return this.fresh(spec.name);
  }

  /** A name whose key was destroyed as a whole may be used again; a live one is 409. */
  private async replaceDestroyed(trx: Trx, name: string): Promise<void> {
    const existing = await trx
      .selectFrom('keys')
      .select(['id', 'destroyed_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!existing) return;
    if (existing.destroyed_at === null)
      throw new KmsError('ALREADY_EXISTS', `key ${name} already exists`);
    await trx.deleteFrom('key_wraps').where('key_id', '=', existing.id).execute();
    await trx.deleteFrom('key_versions').where('key_id', '=', existing.id).execute();
    await trx.deleteFrom('keys').where('id', '=', existing.id).execute();
    await this.deps.invalidations.bump(trx, 'keys');
  }

  private async fresh(name: string): Promise<KeyRecord> {
    const cached = await this.deps.keyring.get(name);
    if (cached) this.deps.keyring.forget(cached);
    return this.require(name);
  }

  async rotate(caller: Caller, name: string): Promise<KeyRecord> {
    const key = await this.require(name);
    if (NON_ROTATING.includes(key.purpose)) {
      await this.refuse(
        caller,
        'key.rotate',
        key,
        new KmsError('WRONG_PURPOSE', `${key.purpose} keys do not rotate: a new key is a new key`),
      );
    }
    if (key.destroyedAt !== null)
      await this.refuse(
        caller,
        'key.rotate',
        key,
        new KmsError('KEY_DESTROYED', `key ${name} was destroyed`),
      );
    const secret = generateSecret(key.algorithm);
    try {
      const publicKey = publicKeyOf(key.algorithm, secret, this.deps.bls);
      const wraps = await this.deps.keyring.wrapForAll(key.algorithm, secret);
      const now = this.deps.now();
      // The version as read before; the body takes the real one inside the transaction.
      const fields = this.event(
        caller,
        'key.rotate',
        name,
        Math.max(0, ...key.versions.map((v) => v.version)) + 1,
      );
      await audited(this.deps.audit, this.deps.writer, fields, async (trx) => {
        // The key's row first: on PostgreSQL its lock makes rotations (and destroys) of one key,
        // from any instance, run one after the other, so each reads the version the previous one
        // made (they used to insert the same version, and the loser got a 500), and a rotation
        // that waited on the providers while the key was destroyed adds nothing to it.
        const state = await lockKey(trx, key.id, now);
        if (state !== 'live')
          throw new KmsError(
            'KEY_DESTROYED',
            `key ${name} was destroyed${state === 'gone' ? ' (its name now names another key)' : ''}`,
          );
        fields.keyVersion = await nextVersion(trx, key.id);
        await trx
          .updateTable('key_versions')
          .set({ state: 'decrypt-only' })
          .where('key_id', '=', key.id)
          .where('state', '=', 'active')
          .execute();
        await insertVersion(trx, key.id, fields.keyVersion, publicKey, wraps, now);
        await this.deps.invalidations.bump(trx, 'keys');
      });
    } finally {
      secret.fill(0);
    }
    return this.fresh(name);
  }

  async patch(
    caller: Caller,
    name: string,
    patch: { enabled?: boolean | undefined; minDecryptionVersion?: number | undefined },
  ): Promise<KeyRecord> {
    const key = await this.require(name);
    const latest = Math.max(...key.versions.map((v) => v.version));
    const min = patch.minDecryptionVersion;
    if (min !== undefined && (!Number.isInteger(min) || min < 1 || min > latest)) {
      throw invalid('minDecryptionVersion', `must be an integer from 1 to ${latest}`);
    }
    await audited(
      this.deps.audit,
      this.deps.writer,
      {
        ...this.event(caller, 'key.update', name, null),
        details: { enabled: patch.enabled ?? null, minDecryptionVersion: min ?? null },
      },
      async (trx) => {
        await trx
          .updateTable('keys')
          .set({
            ...(patch.enabled === undefined ? {} : { enabled: patch.enabled ? 1 : 0 }),
            ...(min === undefined ? {} : { min_decryption_version: min }),
            updated_at: this.deps.now(),
          })
          .where('id', '=', key.id)
          .execute();
        await this.deps.invalidations.bump(trx, 'keys');
      },
    );
    return this.fresh(name);
  }

  /** Destroys one version (or all, when `version` is undefined): its wraps are deleted. */
  async destroy(caller: Caller, name: string, version?: number): Promise<KeyRecord> {
    const key = await this.require(name);
    if (version !== undefined && !findVersion(key, version))
      throw new KmsError('NOT_FOUND', `key ${name} has no version ${version}`);
    const action = version === undefined ? 'key.destroy' : 'key.destroy_version';
    if (key.purpose === 'audit-checkpoint' && version === undefined)
      await this.refuse(caller, action, key, auditKeyStays(name));
    const now = this.deps.now();
    await audited(
      this.deps.audit,
      this.deps.writer,
      this.event(caller, action, name, version ?? null),
      async (trx) => {
        // The key's lock first, as a rotation takes it: a rotation committed meanwhile (here or on
        // another instance) is then in what `all` destroys, and one still waiting sees the key
        // destroyed and refuses.
        if ((await lockKey(trx, key.id, now)) === 'gone')
          throw new KmsError('NOT_FOUND', `key ${name} was destroyed and its name taken again`);
        if (
          key.purpose === 'audit-checkpoint' &&
          version !== undefined &&
          version === (await activeOf(trx, key.id))
        )
          throw auditKeyStays(name);
        await destroyVersions(trx, key.id, version === undefined ? 'all' : [version], now);
        if (version === undefined)
          await trx
            .updateTable('keys')
            .set({ destroyed_at: now })
            .where('id', '=', key.id)
            .where('destroyed_at', 'is', null)
            .execute();
        await this.deps.invalidations.bump(trx, 'keys');
      },
    );
    return this.fresh(name);
  }

  /** Records a refusal against a key and throws it. */
  async refuse(
    caller: Caller,
    action: string,
    key: KeyRecord | string,
    error: KmsError,
  ): Promise<never> {
    const name = typeof key === 'string' ? key : key.name;
    await audited(
      this.deps.audit,
      this.deps.writer,
      this.event(caller, action, name, null),
      async () => {
        throw error;
      },
    );
    throw error;
  }

  event(
    caller: Caller,
    action: string,
    keyName: string,
    keyVersion: number | null,
    ...inputs: (string | Uint8Array)[]
  ) {
    return {
      action,
      principal: caller.principal.name,
      keyName,
      keyVersion,
      requestId: caller.requestId,
      digest: inputs.length ? digestOf(...inputs) : null,
    };
  }
}

/** The active version, or the typed refusal a use of this key gets (disabled, destroyed). */
export function usableActive(key: KeyRecord) {
  if (!key.enabled) throw new KmsError('KEY_DISABLED', `key ${key.name} is disabled`);
  const v = activeVersion(key);
  if (!v) throw new KmsError('KEY_DESTROYED', `key ${key.name} has no active version`);
  return v;
}

/** A version for decryption or verification: exists, not destroyed, not retired. */
export function usableVersion(key: KeyRecord, version: number, field = 'keyVersion') {
  if (!key.enabled) throw new KmsError('KEY_DISABLED', `key ${key.name} is disabled`);
  const v = findVersion(key, version);
  if (!v) throw invalid(field, `key ${key.name} has no version ${version}`);
  if (v.state === 'destroyed')
    throw new KmsError('KEY_DESTROYED', `version ${version} of key ${key.name} was destroyed`);
  if (version < key.minDecryptionVersion) {
    throw new KmsError(
      'KEY_VERSION_RETIRED',
      `version ${version} of key ${key.name} is below minDecryptionVersion ${key.minDecryptionVersion}`,
    );
  }
  return v;
}

/** The version that is active now, read in the transaction (after the key's row is locked). */
async function activeOf(trx: Trx, keyId: string): Promise<number | undefined> {
  const row = await trx
    .selectFrom('key_versions')
    .select('version')
    .where('key_id', '=', keyId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return row?.version;
}

/**
 * Every instance signs its audit checkpoints with the audit key's active version, so that version
 * and the key stay: without them no instance could write a checkpoint, nor start.
 */
function auditKeyStays(name: string): KmsError {
  return new KmsError(
    'WRONG_PURPOSE',
    `${name} signs the audit log's checkpoints: its active version is not destroyed ` +
      '(rotate it, then destroy the older version)',
  );
}

/** The version a rotation adds, read in its transaction (after the key's row is locked). */
async function nextVersion(trx: Trx, keyId: string): Promise<number> {
  const row = await trx
    .selectFrom('key_versions')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('key_id', '=', keyId)
    .executeTakeFirst();
  return Number(row?.v ?? 0) + 1;
}
