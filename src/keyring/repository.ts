/** Reads and writes key rows. Queries only; rules live in the services. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Trx } from '../store/writer.js';
import type { Algorithm } from '../providers/provider.js';
import type { KeyRecord, KeyVersionRecord, Purpose, Residency, VersionState } from './record.js';

type Db = Kysely<Database> | Trx;

export async function loadKey(db: Db, name: string): Promise<KeyRecord | undefined> {
  const row = await db.selectFrom('keys').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) return undefined;
  const [versions, wraps] = await Promise.all([
    db
      .selectFrom('key_versions')
      .selectAll()
      .where('key_id', '=', row.id)
      .orderBy('version')
      .execute(),
    db.selectFrom('key_wraps').selectAll().where('key_id', '=', row.id).execute(),
  ]);
  return {
    id: row.id,
    name: row.name,
    algorithm: row.algorithm as Algorithm,
    purpose: row.purpose as Purpose,
    chains: row.chains ? (JSON.parse(row.chains) as string[]).map((c) => BigInt(c)) : null,
    jwks: row.jwks !== 0,
    residency: row.residency as Residency,
    provider: row.provider,
    enabled: row.enabled !== 0,
    minDecryptionVersion: row.min_decryption_version,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    destroyedAt: row.destroyed_at === null ? null : Number(row.destroyed_at),
    versions: versions.map((v): KeyVersionRecord => ({
      version: v.version,
      state: v.state as VersionState,
      publicKey: v.public_key,
      createdAt: Number(v.created_at),
      wraps: new Map(wraps.filter((w) => w.version === v.version).map((w) => [w.provider, w.blob])),
    })),
  };
}

export async function listKeyNames(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('keys').select('name').orderBy('name').execute();
  return rows.map((r) => r.name);
}

export interface NewKey {
  readonly id: string;
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly purpose: Purpose;
  readonly chains: readonly bigint[] | null;
  readonly jwks: boolean;
  readonly residency: Residency;
  readonly provider: string | null;
}

export async function insertKey(trx: Trx, key: NewKey, now: number): Promise<void> {
  await trx
    .insertInto('keys')
    .values({
      id: key.id,
      name: key.name,
      algorithm: key.algorithm,
      purpose: key.purpose,
      chains: key.chains ? JSON.stringify(key.chains.map(String)) : null,
      jwks: key.jwks ? 1 : 0,
      residency: key.residency,
      provider: key.provider,
      enabled: 1,
      min_decryption_version: 1,
      created_at: now,
      updated_at: now,
      destroyed_at: null,
    })
    .execute();
}

export async function insertVersion(
  trx: Trx,
  keyId: string,
  version: number,
  publicKey: Uint8Array | null,
  wraps: ReadonlyMap<string, Uint8Array>,
  now: number,
): Promise<void> {
  await trx
    .insertInto('key_versions')
    .values({
      key_id: keyId,
      version,
      state: 'active',
      public_key: publicKey ? Buffer.from(publicKey) : null,
      created_at: now,
      destroyed_at: null,
    })
    .execute();
  for (const [provider, blob] of wraps) {
    await trx
      .insertInto('key_wraps')
      .values({ key_id: keyId, version, provider, blob: Buffer.from(blob) })
      .execute();
  }
}

export async function addWrap(
  trx: Trx,
  keyId: string,
  version: number,
  provider: string,
  blob: Uint8Array,
): Promise<void> {
  await trx
    .insertInto('key_wraps')
    .values({ key_id: keyId, version, provider, blob: Buffer.from(blob) })
    .onConflict((oc) => oc.columns(['key_id', 'version', 'provider']).doNothing())
    .execute();
}

/**
 * Destroys versions (`all`: every version the key has in this transaction, so one a concurrent
 * rotation added is not missed): state `destroyed`, wraps deleted (crypto-shredding). The caller
 * holds the key's lock (`lockKey`); a version destroyed before keeps its time. The state changes
 * first: that row lock orders this against the wrap repair (repair.ts), which locks the row and
 * re-reads the state before it adds a blob, so on PostgreSQL a blob added just before is seen by
 * the delete (a new statement snapshot) and one added after is refused.
 */
export async function destroyVersions(
  trx: Trx,
  keyId: string,
  versions: readonly number[] | 'all',
  now: number,
): Promise<void> {
  if (versions !== 'all' && versions.length === 0) return;
  await trx
    .updateTable('key_versions')
    .set({ state: 'destroyed', destroyed_at: now })
    .where('key_id', '=', keyId)
    .where('state', '!=', 'destroyed')
    .$if(versions !== 'all', (q) => q.where('version', 'in', versions as readonly number[]))
    .execute();
  await trx
    .deleteFrom('key_wraps')
    .where('key_id', '=', keyId)
    .$if(versions !== 'all', (q) => q.where('version', 'in', versions as readonly number[]))
    .execute();
}

/**
 * Locks the key's row for the rest of the transaction (on PostgreSQL, the update's row lock; SQLite
 * has one writer) and answers what it holds now: `destroyed` when the key was destroyed, `gone`
 * when its row no longer exists (a destroyed key whose name was taken again). Every change to a
 * key's versions takes this lock first, so rotations and destroys of one key, from any instance,
 * run one after the other and each sees what the one before it committed.
 */
export async function lockKey(
  trx: Trx,
  keyId: string,
  now: number,
): Promise<'live' | 'destroyed' | 'gone'> {
  const row = await trx
    .updateTable('keys')
    .set({ updated_at: now })
    .where('id', '=', keyId)
    .returning('destroyed_at')
    .executeTakeFirst();
  if (!row) return 'gone';
  return row.destroyed_at === null ? 'live' : 'destroyed';
}
