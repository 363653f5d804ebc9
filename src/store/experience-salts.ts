/**
 * The experience salt table (ARCHITECTURE.md "Key hierarchy", item 4): one random 32-byte salt per
 * (user, salt generation). A user's key is `Expand(master_v, "zoo:experience:v{v}:" || salt ||
 * userId, 32)`, so destroying the salt destroys every key of that generation (crypto-shredding).
 * Users are stored by the SHA-256 of their id, never the id itself. A destroyed row stays, its salt
 * overwritten with zeros, so a ciphertext of that generation answers 410 rather than 400, and the
 * next generation number is never reused.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Trx } from './writer.js';

export interface ExperienceSaltsTable {
  /** SHA-256 of the UTF-8 user id. */
  user_hash: Buffer;
  generation: number;
  /** 32 random bytes; 32 zero bytes once destroyed. */
  salt: Buffer;
  created_at: number;
  destroyed_at: number | null;
}

export interface ExperienceTables {
  experience_salts: ExperienceSaltsTable;
}

type Db = Kysely<Database> | Trx;

export const SALT_BYTES = 32;

export interface LiveSalt {
  readonly generation: number;
  readonly salt: Uint8Array;
}

/** The user's live (not destroyed) salt, if it has one. */
export async function liveSalt(db: Db, userHash: Uint8Array): Promise<LiveSalt | undefined> {
  const row = await db
    .selectFrom('experience_salts')
    .select(['generation', 'salt'])
    .where('user_hash', '=', Buffer.from(userHash))
    .where('destroyed_at', 'is', null)
    .orderBy('generation', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { generation: row.generation, salt: row.salt } : undefined;
}

/** The salt of one generation: its bytes, `'destroyed'`, or undefined when it never existed. */
export async function saltOf(
  db: Db,
  userHash: Uint8Array,
  generation: number,
): Promise<Uint8Array | 'destroyed' | undefined> {
  const row = await db
    .selectFrom('experience_salts')
    .select(['salt', 'destroyed_at'])
    .where('user_hash', '=', Buffer.from(userHash))
    .where('generation', '=', generation)
    .executeTakeFirst();
  if (!row) return undefined;
  return row.destroyed_at === null ? row.salt : 'destroyed';
}

/**
 * Makes the user's next generation with `salt`, or returns the live one another transaction made
 * first: the primary key decides, and on PostgreSQL `ON CONFLICT DO NOTHING` waits for the
 * concurrent insert and the following read (a fresh READ COMMITTED snapshot) sees its row.
 */
export async function createSalt(
  trx: Trx,
  userHash: Uint8Array,
  salt: Uint8Array,
  now: number,
): Promise<LiveSalt | undefined> {
  const existing = await liveSalt(trx, userHash);
  if (existing) return existing;
  const last = await trx
    .selectFrom('experience_salts')
    .select((eb) => eb.fn.max('generation').as('g'))
    .where('user_hash', '=', Buffer.from(userHash))
    .executeTakeFirst();
  const generation = Number(last?.g ?? 0) + 1;
  await trx
    .insertInto('experience_salts')
    .values({
      user_hash: Buffer.from(userHash),
      generation,
      salt: Buffer.from(salt),
      created_at: now,
      destroyed_at: null,
    })
    .onConflict((oc) => oc.columns(['user_hash', 'generation']).doNothing())
    .execute();
  return liveSalt(trx, userHash);
}

/**
 * Destroys every live salt of the user; returns how many. The salt is first overwritten alone
 * with zeros of the same length, so SQLite rewrites the record in place (same payload size) rather
 * than leaving the old bytes in the page's free space; then the rows it zeroed, and only those,
 * are marked destroyed. On PostgreSQL each statement reads a fresh snapshot: a salt another
 * instance committed between the two is not zeroed by the first, and marking it destroyed would
 * leave it intact in the store under a destroyed mark; it stays live (its encrypt came after this
 * deletion). Copies left by earlier moves of a row stay until reused (docs/experience.md
 * "Deleting a user").
 */
export async function destroySalts(trx: Trx, userHash: Uint8Array, now: number): Promise<number> {
  const zeros = Buffer.alloc(SALT_BYTES);
  const live = () =>
    trx
      .updateTable('experience_salts')
      .where('user_hash', '=', Buffer.from(userHash))
      .where('destroyed_at', 'is', null);
  await live().set({ salt: zeros }).execute();
  const res = await live().where('salt', '=', zeros).set({ destroyed_at: now }).executeTakeFirst();
  return Number(res.numUpdatedRows);
}
