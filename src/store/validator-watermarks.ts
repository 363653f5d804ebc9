/**
 * Validator double-sign state (ARCHITECTURE.md "Signing rules"): one watermark row per (BLS public
 * key, chain), the signed blocks, and a signature counter per public key. Queries only; the rule
 * lives in services/validator/rule.ts.
 *
 * The watermark row is the lock: on PostgreSQL `SELECT ... FOR UPDATE` inside the signing
 * transaction serialises every instance on it until COMMIT (a missing row is first inserted with
 * `ON CONFLICT DO NOTHING`, which waits for a concurrent inserter, so there is always one row to
 * lock). SQLite has a single writer connection, which serialises by itself.
 */
import type { Kysely, QueryCreator } from 'kysely';
import type { Engine } from './columns.js';
import { fromU64Column, u64Column } from './columns.js';
import type { Trx } from './writer.js';
import type { Database } from './schema.js';
import { statement, type Db as Executor } from './compiled.js';

export interface ValidatorWatermarksTable {
  public_key: Buffer;
  /** u64Column (20-digit zero-padded decimal), as `height`. */
  chain_id: string;
  /** Null in a row made only to be locked: nothing signed or imported yet. */
  height: string | null;
  round: number | null;
  /** Null when the block at (height, round) is unknown (imported without its root). */
  signing_root: Buffer | null;
  block_hash: Buffer | null;
  /** The signature released for (height, round): an identical repeat gets it back. */
  signature: Buffer | null;
  counter: number | null;
  updated_at: number;
}

export interface SignedBlocksTable {
  public_key: Buffer;
  chain_id: string;
  height: string;
  round: number;
  block_hash: Buffer;
  signing_root: Buffer;
  signature: Buffer;
  counter: number;
  key_name: string;
  signed_at: number;
}

export interface ValidatorCountersTable {
  public_key: Buffer;
  counter: number;
}

export interface ValidatorTables {
  validator_watermarks: ValidatorWatermarksTable;
  signed_blocks: SignedBlocksTable;
  validator_counters: ValidatorCountersTable;
}

type Db = Kysely<Database> | Trx;

/** (height, round) and the root of the block signed there (null: unknown), as the rule takes it. */
export interface Watermark {
  readonly height: bigint;
  readonly round: number;
  readonly signingRoot: Uint8Array | null;
}

export interface StoredWatermark extends Watermark {
  readonly blockHash: Uint8Array | null;
  readonly signature: Uint8Array | null;
  readonly counter: number | null;
}

export interface SignedBlock {
  readonly publicKey: Uint8Array;
  readonly chainId: bigint;
  readonly height: bigint;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signingRoot: Uint8Array;
  readonly signature: Uint8Array;
  readonly keyName: string;
  readonly at: number;
}

const COLUMNS = ['height', 'round', 'signing_root', 'block_hash', 'signature', 'counter'] as const;

function toStored(
  row: Pick<ValidatorWatermarksTable, (typeof COLUMNS)[number]> | undefined,
): StoredWatermark | null {
  if (!row || row.height === null || row.round === null) return null;
  return {
    height: fromU64Column(row.height),
    round: Number(row.round),
    signingRoot: row.signing_root,
    blockHash: row.block_hash,
    signature: row.signature,
    counter: row.counter === null ? null : Number(row.counter),
  };
}

interface RowKey {
  public_key: Buffer;
  chain_id: string;
}
type WatermarkRow = Pick<ValidatorWatermarksTable, (typeof COLUMNS)[number]>;

// The signing path's statements, compiled once (src/store/compiled.ts, docs/performance.md).
const selectRow = (db: Executor, k: RowKey) =>
  db
    .selectFrom('validator_watermarks')
    .select(COLUMNS)
    .where('public_key', '=', k.public_key)
    .where('chain_id', '=', k.chain_id);
const SELECT = statement<RowKey>(['public_key', 'chain_id'], selectRow);
const SELECT_FOR_UPDATE = statement<RowKey>(['public_key', 'chain_id'], (db, k) =>
  selectRow(db, k).forUpdate(),
);
/** The key's counter plus one (1 for its first signature), returning the new value. */
const countUp = (q: QueryCreator<Database>, publicKey: Buffer) =>
  q
    .insertInto('validator_counters')
    .values({ public_key: publicKey, counter: 1 })
    .onConflict((oc) =>
      oc
        .column('public_key')
        .doUpdateSet((eb) => ({ counter: eb('validator_counters.counter', '+', 1) })),
    )
    .returning('counter');
const COUNT = statement<{ public_key: Buffer }>(['public_key'], (db, v) =>
  countUp(db, v.public_key),
);
const RAISE = statement<ValidatorWatermarksTable>(
  [
    'height',
    'round',
    'block_hash',
    'signing_root',
    'signature',
    'counter',
    'updated_at',
    'public_key',
    'chain_id',
  ],
  (db, v) =>
    db
      .updateTable('validator_watermarks')
      .set({
        height: v.height,
        round: v.round,
        block_hash: v.block_hash,
        signing_root: v.signing_root,
        signature: v.signature,
        counter: v.counter,
        updated_at: v.updated_at,
      })
      .where('public_key', '=', v.public_key)
      .where('chain_id', '=', v.chain_id),
);
const INSERT_BLOCK = statement<SignedBlocksTable>(
  [
    'public_key',
    'chain_id',
    'height',
    'round',
    'block_hash',
    'signing_root',
    'signature',
    'counter',
    'key_name',
    'signed_at',
  ],
  (db, v) => db.insertInto('signed_blocks').values(v),
);

/** What recordBlock writes; `at` is both `updated_at` and `signed_at`. */
interface Recorded {
  public_key: Buffer;
  chain_id: string;
  height: string;
  round: number;
  block_hash: Buffer;
  signing_root: Buffer;
  signature: Buffer;
  key_name: string;
  at: number;
}
const RECORDED: readonly (keyof Recorded)[] = [
  'public_key',
  'chain_id',
  'height',
  'round',
  'block_hash',
  'signing_root',
  'signature',
  'key_name',
  'at',
];
/**
 * PostgreSQL: the counter, the watermark and the signed block in one statement (data-modifying
 * CTEs), one round trip instead of three inside the writer's transaction (docs/performance.md).
 */
const RECORD_PG = statement<Recorded>(RECORDED, (db, v) =>
  db
    .with('c', (q) => countUp(q, v.public_key))
    .with('w', (q) =>
      q
        .updateTable('validator_watermarks')
        .set((eb) => ({
          height: v.height,
          round: v.round,
          block_hash: v.block_hash,
          signing_root: v.signing_root,
          signature: v.signature,
          counter: eb.selectFrom('c').select('c.counter'),
          updated_at: v.at,
        }))
        .where('public_key', '=', v.public_key)
        .where('chain_id', '=', v.chain_id),
    )
    .insertInto('signed_blocks')
    .values((eb) => ({
      public_key: v.public_key,
      chain_id: v.chain_id,
      height: v.height,
      round: v.round,
      block_hash: v.block_hash,
      signing_root: v.signing_root,
      signature: v.signature,
      counter: eb.selectFrom('c').select('c.counter'),
      key_name: v.key_name,
      signed_at: v.at,
    }))
    .returning('counter'),
);

async function selectLocked(
  trx: Trx,
  engine: Engine,
  publicKey: Buffer,
  chain: string,
): Promise<WatermarkRow | undefined> {
  const q = engine === 'postgres' ? SELECT_FOR_UPDATE : SELECT;
  return (await q.execute<WatermarkRow>(trx, { public_key: publicKey, chain_id: chain })).rows[0];
}

/**
 * Locks the (public key, chain) row for the rest of the transaction and returns its watermark
 * (null: nothing signed yet). One indexed statement when the row exists, three the first time.
 */
export async function lockWatermark(
  trx: Trx,
  engine: Engine,
  publicKey: Uint8Array,
  chainId: bigint,
  now: number,
): Promise<StoredWatermark | null> {
  const pk = Buffer.from(publicKey);
  const chain = u64Column(chainId);
  const row = await selectLocked(trx, engine, pk, chain);
  if (row) return toStored(row);
  await trx
    .insertInto('validator_watermarks')
    .values({
      public_key: pk,
      chain_id: chain,
      height: null,
      round: null,
      signing_root: null,
      block_hash: null,
      signature: null,
      counter: null,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['public_key', 'chain_id']).doNothing())
    .execute();
  return toStored(await selectLocked(trx, engine, pk, chain));
}

/** Persists a new signature: counter + 1, the watermark, and the signed block. Returns the counter. */
export async function recordBlock(trx: Trx, engine: Engine, b: SignedBlock): Promise<number> {
  const row: Recorded = {
    public_key: Buffer.from(b.publicKey),
    chain_id: u64Column(b.chainId),
    height: u64Column(b.height),
    round: b.round,
    block_hash: Buffer.from(b.blockHash),
    signing_root: Buffer.from(b.signingRoot),
    signature: Buffer.from(b.signature),
    key_name: b.keyName,
    at: b.at,
  };
  if (engine === 'postgres')
    return Number((await RECORD_PG.execute<{ counter: number }>(trx, row)).rows[0]!.counter);
  const counted = await COUNT.execute<{ counter: number }>(trx, { public_key: row.public_key });
  const counter = Number(counted.rows[0]!.counter);
  const { at, key_name, ...block } = row;
  await RAISE.execute(trx, { ...block, counter, updated_at: at });
  await INSERT_BLOCK.execute(trx, { ...block, counter, key_name, signed_at: at });
  return counter;
}

/** Sets a watermark from an interchange file: the block, its signature and counter are unknown. */
export async function setImported(
  trx: Trx,
  publicKey: Uint8Array,
  chainId: bigint,
  w: Watermark,
  now: number,
): Promise<void> {
  await trx
    .updateTable('validator_watermarks')
    .set({
      height: u64Column(w.height),
      round: w.round,
      signing_root: w.signingRoot === null ? null : Buffer.from(w.signingRoot),
      block_hash: null,
      signature: null,
      counter: null,
      updated_at: now,
    })
    .where('public_key', '=', Buffer.from(publicKey))
    .where('chain_id', '=', u64Column(chainId))
    .execute();
}

export async function readWatermark(
  db: Db,
  publicKey: Uint8Array,
  chainId: bigint,
): Promise<StoredWatermark | null> {
  const row = await db
    .selectFrom('validator_watermarks')
    .select(COLUMNS)
    .where('public_key', '=', Buffer.from(publicKey))
    .where('chain_id', '=', u64Column(chainId))
    .executeTakeFirst();
  return toStored(row);
}

/** Signatures issued by this public key so far (0 before the first). */
export async function readCounter(db: Db, publicKey: Uint8Array): Promise<number> {
  const row = await db
    .selectFrom('validator_counters')
    .select('counter')
    .where('public_key', '=', Buffer.from(publicKey))
    .executeTakeFirst();
  return row ? Number(row.counter) : 0;
}

/** Every watermark of one chain, by public key. */
export async function listWatermarks(
  db: Db,
  chainId: bigint,
): Promise<{ publicKey: Uint8Array; watermark: StoredWatermark }[]> {
  const rows = await db
    .selectFrom('validator_watermarks')
    .select(['public_key', ...COLUMNS])
    .where('chain_id', '=', u64Column(chainId))
    .where('height', 'is not', null)
    .orderBy('public_key')
    .execute();
  return rows.map((r) => ({ publicKey: r.public_key, watermark: toStored(r)! }));
}
