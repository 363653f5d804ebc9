/**
 * A store whose COMMITs are real but whose answers can be lost: while `lose(n)` has answers left
 * to lose, a transaction that committed throws as if the connection dropped right after the
 * server made the COMMIT durable (PostgreSQL stopped or crashed under load). Only
 * `transaction().execute`, the one thing the writer uses, is provided.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

export function lostAcks(real: Kysely<Database>): { db: Kysely<Database>; lose(n: number): void } {
  let lost = 0;
  const db = {
    transaction: () => ({
      execute: async <T>(fn: (trx: never) => Promise<T>) => {
        const out = await real.transaction().execute(fn as never);
        if (lost > 0) {
          lost -= 1;
          throw new Error('Connection terminated unexpectedly');
        }
        return out as T;
      },
    }),
  } as unknown as Kysely<Database>;
  return { db, lose: (n) => void (lost = n) };
}
