/**
 * Opens the one SQL database (ARCHITECTURE.md "Store"): SQLite by default (a file in the data dir,
 * WAL, `synchronous=FULL` so a commit survives power loss) or PostgreSQL (`synchronous_commit=on`,
 * for several instances). Migrations run at open, under the migrator's own lock.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type MigrationProvider,
  type SqliteDatabase,
} from 'kysely';
import type { Database } from './schema.js';
import { type Engine } from './columns.js';
import { MIGRATIONS } from './migrations/index.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';
import { createStoreLock, type StoreLock } from './lock.js';
import { preparedName, runDirectly } from './compiled.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** Runs start-up work once across instances (root keys, bootstrap token, first-use masters). */
  readonly lock: StoreLock;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Empty: SQLite at `sqlitePath`; otherwise a postgres:// URL. */
  readonly url: string;
  readonly sqlitePath: string;
  readonly poolSize?: number;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const store = opts.url
    ? openPostgres(opts.url, opts.poolSize ?? 10)
    : openSqlite(opts.sqlitePath);
  try {
    await migrate(store.db);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

function openSqlite(file: string): Store {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const database = openSqliteFile(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  // Deleted rows are overwritten with zeros, so destroyed key wraps and user salts do not linger
  // in free pages (crypto-shredding, docs/experience.md).
  database.pragma('secure_delete = ON');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // WAL checkpoints run on a worker thread's own connection (./checkpointer.ts), not inside
  // whichever request's COMMIT crosses the threshold.
  database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(file);
  const statements = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  runDirectly(db, (text, parameters) => {
    // As Kysely's SQLite driver runs a statement, with the same statement cache.
    const stmt = statements.prepare(text) as BetterSqlite3.Statement;
    if (stmt.reader) return { rows: stmt.all(parameters) };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  });
  return {
    db,
    engine: 'sqlite',
    lock: createStoreLock(db, 'sqlite'),
    close: async () => {
      await checkpointer.stop();
      await db.destroy();
    },
  };
}

/** SQLite's own message ("unable to open database file") names neither the file nor the cause. */
function openSqliteFile(file: string): BetterSqlite3.Database {
  try {
    accessSync(path.dirname(file), constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `the data directory ${path.dirname(file)} is not writable (${code}${code === 'EROFS' ? ': read-only file system' : ''}); the SQLite store writes its database and WAL there`,
    );
  }
  try {
    // Made 0600 before SQLite opens it (its WAL and shared-memory files take the same mode): the
    // store holds wrapped keys and the audit log, no one else's to read.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    return new BetterSqlite3(file);
  } catch (e) {
    throw new Error(`cannot open the SQLite store ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Kysely prepares every query afresh, and preparing cost as much main-thread time as running on
 * the signing path (docs/performance.md); the hot paths repeat a few dozen statements, so they are
 * kept by SQL text (bounded). Reusing one is safe: Kysely runs one query at a time on the one
 * connection, and SQLite re-prepares a kept statement itself after a schema change.
 */
function withStatementCache(database: BetterSqlite3.Database, max = 512): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(text) {
      let stmt = statements.get(text);
      if (!stmt) {
        stmt = database.prepare(text);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
        statements.set(text, stmt);
      }
      return stmt;
    },
  };
}

function openPostgres(url: string, max: number): Store {
  // int8 (BIGINT) as a JS number: our BIGINT columns hold milliseconds, sequences and counters,
  // all far below 2^53. u64 chain values are TEXT columns (see schema.ts).
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    void client.query('SET synchronous_commit = on').catch(() => undefined);
    keepHotStatementsPrepared(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    engine: 'postgres',
    lock: createStoreLock(db, 'postgres'),
    close: () => db.destroy(),
  };
}

/**
 * Kysely sends every query as an unnamed statement, parsed and planned each time; the statements
 * of the hot paths (compiled.ts) go as named ones instead, which each connection parses once.
 */
function keepHotStatementsPrepared(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' && rest.length === 0 ? preparedName(text) : undefined;
    return name ? query({ name, text, values }) : query(text, values, ...rest);
  }) as typeof client.query;
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A cheap round trip, for `/readyz`. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
