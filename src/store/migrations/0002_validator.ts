/**
 * Validator double-sign state (API.md "Validators"), see ../validator-watermarks.ts: watermarks per
 * (BLS public key, chain), the history of signed blocks, and a signature counter per public key.
 * Keyed by public key, not key name, so they outlive the key and exist before it is imported.
 */
import type { Kysely } from 'kysely';
import { bytesType } from '../columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = bytesType(db);
  await db.schema
    .createTable('validator_watermarks')
    .addColumn('public_key', bytes, (c) => c.notNull())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('height', 'text')
    .addColumn('round', 'bigint')
    .addColumn('signing_root', bytes)
    .addColumn('block_hash', bytes)
    .addColumn('signature', bytes)
    .addColumn('counter', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('validator_watermarks_pk', ['public_key', 'chain_id'])
    .execute();
  // The primary key is the backstop of the rule: never two signatures for one height and round.
  await db.schema
    .createTable('signed_blocks')
    .addColumn('public_key', bytes, (c) => c.notNull())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('height', 'text', (c) => c.notNull())
    .addColumn('round', 'bigint', (c) => c.notNull())
    .addColumn('block_hash', bytes, (c) => c.notNull())
    .addColumn('signing_root', bytes, (c) => c.notNull())
    .addColumn('signature', bytes, (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('signed_blocks_pk', ['public_key', 'chain_id', 'height', 'round'])
    .execute();
  await db.schema
    .createTable('validator_counters')
    .addColumn('public_key', bytes, (c) => c.primaryKey())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
