/** Every byte a test KMS's store holds: the SQLite files (db, WAL) or a pg_dump of its database. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { TestKms } from './kms.js';

export async function storeDump(k: TestKms): Promise<Buffer> {
  if (k.store === 'postgres')
    return execFileSync('pg_dump', ['--data-only', k.dbUrl], { maxBuffer: 512 * 1024 * 1024 });
  await sql`PRAGMA wal_checkpoint(FULL)`.execute(k.kms.services.deps.db);
  const files = readdirSync(k.dataDir).filter((f) => f.startsWith('kms.sqlite'));
  return Buffer.concat(files.map((f) => readFileSync(path.join(k.dataDir, f))));
}
