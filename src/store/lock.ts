/**
 * The store lock for start-up work that must happen once across instances (ARCHITECTURE.md
 * "Several instances"): a session-level advisory lock on PostgreSQL; on SQLite, where one process
 * owns the file, an in-process mutex. The losers run after the winner and find what it made.
 */
import { type Kysely, sql } from 'kysely';
import type { Engine } from './columns.js';
import { Mutex } from './mutex.js';

export interface StoreLock {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createStoreLock(db: Kysely<any>, engine: Engine): StoreLock {
  const local = new Map<string, Mutex>();
  const mutex = (name: string): Mutex => {
    let m = local.get(name);
    if (!m) local.set(name, (m = new Mutex()));
    return m;
  };
  if (engine === 'sqlite') return { withLock: (name, fn) => mutex(name).run(fn) };
  return {
    withLock: (name, fn) =>
      mutex(name).run(() =>
        db.connection().execute(async (conn) => {
          await sql`select pg_advisory_lock(hashtext(${'zoo-kms:' + name}))`.execute(conn);
          try {
            return await fn();
          } finally {
            await sql`select pg_advisory_unlock(hashtext(${'zoo-kms:' + name}))`.execute(conn);
          }
        }),
      ),
  };
}
