/** Bridge nonces (LP-401): single use per (BLS public key, target chain), see ../bridge-nonces.ts. */
import type { Kysely } from 'kysely';
import { bytesType } from '../columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = bytesType(db);
  await db.schema
    .createTable('bridge_nonces')
    .addColumn('public_key', bytes, (c) => c.notNull())
    .addColumn('target_chain', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('message_hash', bytes, (c) => c.notNull())
    .addColumn('signature', bytes, (c) => c.notNull())
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('bridge_nonces_pk', ['public_key', 'target_chain', 'nonce'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
