/**
 * Statements of the hot paths (a signature's watermark and nonce, every audit event), compiled by
 * Kysely once per engine and then run with each call's values. Building and compiling a query
 * took 10 to 30 us of main-thread time here, several times what SQLite needs to run a small one
 * (docs/performance.md). Savepoints are constant SQL, kept as compiled queries.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';
import type { Trx } from './writer.js';

export type Db = Kysely<Database> | Trx;

/** SQL text of every compiled statement -> its PostgreSQL prepared-statement name. */
const named = new Map<string, string>();

/**
 * The name under which PostgreSQL keeps `text` prepared on each connection (database.ts), for the
 * statements compiled here only: a fixed, small set. Parsing and planning each time cost about as
 * much as running them, on the server and in the client (docs/performance.md).
 */
export function preparedName(text: string): string | undefined {
  return named.get(text);
}

/** Stands for the value at `key` while the statement is compiled. */
class Slot {
  constructor(readonly key: string | number) {}
}

export interface Statement<V> {
  execute<R = unknown>(db: Db, values: V): Promise<QueryResult<R>>;
}

interface Compiled {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

function compileWith(
  db: Db,
  keys: readonly (string | number)[],
  slots: object,
  build: (db: Db, v: never) => Compilable<unknown>,
): Compiled {
  const q = build(db, slots as never).compile();
  for (const k of keys) {
    if (!q.parameters.some((p) => p instanceof Slot && p.key === k))
      throw new Error(`statement: value ${k} is not a parameter of ${q.sql}`);
  }
  if (!named.has(q.sql)) named.set(q.sql, `kms_${named.size + 1}`);
  return { sql: q.sql, parameters: q.parameters };
}

/** Runs one statement on an SQLite connection, synchronously (better-sqlite3). */
export type DirectRun = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>;

/** Kysely adapter of an SQLite store -> its connection's direct runner (database.ts). */
const directSqlite = new WeakMap<object, DirectRun>();

/**
 * Lets the compiled statements of a transaction on this SQLite store skip Kysely's executor
 * (database.ts). SQLite has one connection, which a transaction holds for as long as it runs,
 * so a statement given that transaction runs inside it either way; going straight to
 * better-sqlite3 saves the executor's layers of promises, about 15% of the store's main-thread
 * time per validator signature (docs/performance.md). Only statements given a transaction do: a statement
 * outside one still waits for the connection through Kysely, so it never reads another
 * transaction's uncommitted writes. A Kysely instance with plugins keeps the executor, so they
 * see every statement.
 */
export function runDirectly(db: Kysely<Database>, run: DirectRun): void {
  directSqlite.set(db.getExecutor().adapter, run);
}

function runner<V>(compile: (db: Db) => Compiled): Statement<V> {
  const compiled = new Map<unknown, Compiled>();
  return {
    async execute<R>(db: Db, values: V) {
      const executor = db.getExecutor();
      // One compilation per dialect (SQLite `?`, PostgreSQL `$1`): keyed by the adapter's class.
      const dialect = executor.adapter.constructor;
      let c = compiled.get(dialect);
      if (!c) compiled.set(dialect, (c = compile(db)));
      const given = values as Record<string | number, unknown>;
      const parameters = c.parameters.map((p) => (p instanceof Slot ? given[p.key] : p));
      // Not with plugins (a test's recorder): they see only what goes through the executor.
      const direct =
        db.isTransaction && executor.plugins.length === 0
          ? directSqlite.get(executor.adapter)
          : undefined;
      if (direct) return direct(c.sql, parameters) as QueryResult<R>;
      return db.executeQuery<R>(CompiledQuery.raw(c.sql, parameters));
    },
  };
}

/**
 * `build(db, v)` must use every value of `v` as a plain value of the query (a column value or a
 * comparison operand), and must not branch on them: it runs once, with placeholders. No value may
 * be `undefined` (Kysely would leave an insert's column out); use null.
 */
export function statement<V extends object>(
  names: readonly (keyof V & string)[],
  build: (db: Db, v: V) => Compilable<unknown>,
): Statement<V> {
  const slots = () => Object.fromEntries(names.map((n) => [n, new Slot(n)]));
  return runner<V>((db) => compileWith(db, names, slots(), build));
}

/** As `statement`, with `count` values given as an array (many rows of one insert). */
export function positional(
  count: number,
  build: (db: Db, v: readonly unknown[]) => Compilable<unknown>,
): Statement<readonly unknown[]> {
  const keys = Array.from({ length: count }, (_, i) => i);
  return runner((db) =>
    compileWith(
      db,
      keys,
      keys.map((i) => new Slot(i)),
      build,
    ),
  );
}

/** A constant statement (savepoints), compiled once. */
export function constant(text: string): CompiledQuery {
  return CompiledQuery.raw(text, []);
}
