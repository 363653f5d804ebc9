/**
 * The bridge nonce table (ARCHITECTURE.md "Signing rules", LP-401): one row per (BLS public key,
 * target chain, nonce), holding the hash of the one message signed under it and its signature.
 * Keyed by the public key, not the key name, so deleting and re-importing a key (or importing the
 * same secret under a second name) cannot reopen a used nonce. The primary key is the backstop of
 * the single-use rule across instances.
 */
import type { Trx } from './writer.js';
import { u64Column } from './columns.js';
import { statement } from './compiled.js';

export interface BridgeNoncesTable {
  public_key: Buffer;
  /** u64Column (20-digit zero-padded decimal). */
  target_chain: string;
  nonce: string;
  message_hash: Buffer;
  signature: Buffer;
  key_name: string;
  created_at: number;
}

export interface BridgeTables {
  bridge_nonces: BridgeNoncesTable;
}

export interface NonceUse {
  readonly publicKey: Uint8Array;
  readonly targetChainId: bigint;
  readonly nonce: bigint;
  readonly messageHash: Uint8Array;
  readonly signature: Uint8Array;
  readonly keyName: string;
  readonly at: number;
}

// The signing path's statements, compiled once (src/store/compiled.ts, docs/performance.md).
const CLAIM = statement<BridgeNoncesTable>(
  ['public_key', 'target_chain', 'nonce', 'message_hash', 'signature', 'key_name', 'created_at'],
  (db, v) =>
    db
      .insertInto('bridge_nonces')
      .values(v)
      .onConflict((oc) => oc.columns(['public_key', 'target_chain', 'nonce']).doNothing()),
);
type NonceKey = Pick<BridgeNoncesTable, 'public_key' | 'target_chain' | 'nonce'>;
const HOLDER = statement<NonceKey>(['public_key', 'target_chain', 'nonce'], (db, k) =>
  db
    .selectFrom('bridge_nonces')
    .select(['message_hash as messageHash', 'signature'])
    .where('public_key', '=', k.public_key)
    .where('target_chain', '=', k.target_chain)
    .where('nonce', '=', k.nonce),
);

/**
 * Records the use of a nonce, or returns the row that already holds it. `ON CONFLICT DO NOTHING`
 * waits, on PostgreSQL, for a concurrent transaction inserting the same nonce and then sees its
 * row (READ COMMITTED reads a fresh snapshot per statement), so two instances never both win.
 */
export async function claimNonce(
  trx: Trx,
  use: NonceUse,
): Promise<{ messageHash: Buffer; signature: Buffer } | undefined> {
  const id: NonceKey = {
    public_key: Buffer.from(use.publicKey),
    target_chain: u64Column(use.targetChainId),
    nonce: u64Column(use.nonce),
  };
  const res = await CLAIM.execute(trx, {
    ...id,
    message_hash: Buffer.from(use.messageHash),
    signature: Buffer.from(use.signature),
    key_name: use.keyName,
    created_at: use.at,
  });
  if (Number(res.numAffectedRows ?? 0n) === 1) return undefined;
  const holder = await HOLDER.execute<{ messageHash: Buffer; signature: Buffer }>(trx, id);
  if (!holder.rows[0]) throw new Error('bridge nonce neither claimed nor held');
  return holder.rows[0];
}
