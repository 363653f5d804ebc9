/** Experience salts: one per (user hash, salt generation), see ../experience-salts.ts. */
import type { Kysely } from 'kysely';
import { bytesType } from '../columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = bytesType(db);
  await db.schema
    .createTable('experience_salts')
    .addColumn('user_hash', bytes, (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('salt', bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('destroyed_at', 'bigint')
    .addPrimaryKeyConstraint('experience_salts_pk', ['user_hash', 'generation'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
