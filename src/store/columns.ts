/** Column helpers shared by migrations and queries, so both engines store the same values. */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function engineOf(db: Kysely<any>): Engine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** The binary column type of the engine. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function bytesType(db: Kysely<any>) {
  return engineOf(db) === 'postgres' ? sql`bytea` : sql`blob`;
}

const U64_MAX = (1n << 64n) - 1n;

/** A u64 as the 20-digit zero-padded decimal string stored in TEXT columns (orders correctly). */
export function u64Column(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError('u64 out of range');
  return value.toString().padStart(20, '0');
}

export function fromU64Column(value: string): bigint {
  return BigInt(value);
}

export const toBool = (v: number): boolean => v !== 0;
export const fromBool = (v: boolean): number => (v ? 1 : 0);
