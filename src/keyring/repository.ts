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
 * Destroys versions: state `destroyed`, wraps deleted (crypto-shredding). The state changes first:
 * that row lock orders this against the wrap repair (repair.ts), which locks the row and re-reads
 * the state before it adds a blob, so on PostgreSQL a blob added just before is seen by the delete
 * (a new statement snapshot) and one added after is refused.
 */
export async function destroyVersions(
  trx: Trx,
  keyId: string,
  versions: readonly number[],
  now: number,
): Promise<void> {
  if (versions.length === 0) return;
  await trx
    .updateTable('key_versions')
    .set({ state: 'destroyed', destroyed_at: now })
    .where('key_id', '=', keyId)
    .where('version', 'in', versions)
    .execute();
  await trx
    .deleteFrom('key_wraps')
    .where('key_id', '=', keyId)
    .where('version', 'in', versions)
    .execute();
  await touch(trx, keyId, now);
}

export async function touch(trx: Trx, keyId: string, now: number): Promise<void> {
  await trx.updateTable('keys').set({ updated_at: now }).where('id', '=', keyId).execute();
}
