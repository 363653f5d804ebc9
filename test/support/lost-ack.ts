/**
 * A store whose transactions can end the two ways a COMMIT fails. `lose(n)`: the next n COMMITs
 * are real, but their answers are replaced by a connection error, as when the connection drops
 * right after the server made the COMMIT durable (PostgreSQL stopped or crashed under load).
 * `refuse(n, error)`: the next n transactions are rolled back and fail with `error`, as a COMMIT
 * the server refused (a serialization failure). Only `transaction().execute`, the one thing the
 * writer uses, is provided.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

export function lostAcks(real: Kysely<Database>): {
  db: Kysely<Database>;
  lose(n: number): void;
  refuse(n: number, error: Error): void;
} {
  let lost = 0;
  let refused = 0;
  let refusal = new Error('refused');
  const db = {
    transaction: () => ({
      execute: async <T>(fn: (trx: never) => Promise<T>) => {
        const out = await real.transaction().execute(async (trx) => {
          const value = await fn(trx as never);
          if (refused > 0) {
            refused -= 1;
            throw refusal;
          }
          return value;
        });
        if (lost > 0) {
          lost -= 1;
          throw new Error('Connection terminated unexpectedly');
        }
        return out;
      },
    }),
  } as unknown as Kysely<Database>;
  return {
    db,
    lose: (n) => void (lost = n),
    refuse: (n, error) => {
      refused = n;
      refusal = error;
    },
  };
}
