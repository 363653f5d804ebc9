/**
 * Reads a KMS store from outside the process (fault tests inspect what survived a kill): the
 * SQLite file of a data dir, read-only beside the running server (WAL allows it), or a PostgreSQL
 * database by URL. Plain SQL without parameters, written to run on both engines.
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

export interface StoreLocation {
  readonly dataDir: string;
  /** Empty or absent: SQLite in the data dir. */
  readonly databaseUrl?: string | undefined;
}

export async function queryStore<T = Record<string, unknown>>(
  where: StoreLocation,
  text: string,
): Promise<T[]> {
  if (where.databaseUrl) {
    const c = new pg.Client({ connectionString: where.databaseUrl });
    await c.connect();
    try {
      return (await c.query(text)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const db = new BetterSqlite3(path.join(where.dataDir, 'kms.sqlite'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    return db.prepare(text).all() as T[];
  } finally {
    db.close();
  }
}
