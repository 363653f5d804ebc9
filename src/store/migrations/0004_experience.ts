/** Experience salts: one per (user hash, salt generation), see ../experience-salts.ts. */
import { sql, type Kysely } from 'kysely';
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
  // The cache domains a user deletion and a master change bump. Invalidations.poll only fires for
  // a domain it has seen before, so without these rows the very first deletion (or rotation) would
  // never reach the other instances' caches.
  await sql`insert into invalidations (domain, generation) values ('experience', 0), ('keys', 0)
            on conflict (domain) do nothing`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
