/** Keys, versions, per-provider wraps, principals, tokens, audit chains and checkpoints. */
import type { Kysely } from 'kysely';
import { bytesType } from '../columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = bytesType(db);
  await db.schema
    .createTable('keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('chains', 'text')
    .addColumn('jwks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('residency', 'text', (c) => c.notNull())
    .addColumn('provider', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('min_decryption_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('destroyed_at', 'bigint')
    .execute();
  await db.schema
    .createTable('key_versions')
    .addColumn('key_id', 'text', (c) => c.notNull().references('keys.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('public_key', bytes)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('destroyed_at', 'bigint')
    .addPrimaryKeyConstraint('key_versions_pk', ['key_id', 'version'])
    .execute();
  await db.schema
    .createTable('key_wraps')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('blob', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('key_wraps_pk', ['key_id', 'version', 'provider'])
    .addForeignKeyConstraint(
      'key_wraps_version_fk',
      ['key_id', 'version'],
      'key_versions',
      ['key_id', 'version'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createTable('principals')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('cert_fingerprints', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('token_hash', bytes, (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('tokens_principal').on('tokens').column('principal').execute();
  await createAudit(db);
  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('invalidations')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .execute();
}

async function createAudit(db: Kysely<unknown>): Promise<void> {
  const bytes = bytesType(db);
  await db.schema
    .createTable('audit_events')
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('principal', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('key_name', 'text')
    .addColumn('key_version', 'integer')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('request_id', 'text')
    .addColumn('digest', 'text')
    .addColumn('details', 'text')
    .addColumn('prev_hash', bytes, (c) => c.notNull())
    .addColumn('hash', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_events_pk', ['instance', 'seq'])
    .execute();
  await db.schema.createIndex('audit_events_ts').on('audit_events').columns(['ts']).execute();
  await db.schema
    .createIndex('audit_events_key')
    .on('audit_events')
    .columns(['key_name', 'ts'])
    .execute();
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('signature', bytes, (c) => c.notNull())
    .addColumn('key_version', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['instance', 'seq'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
