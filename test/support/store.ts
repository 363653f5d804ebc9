/**
 * Which store a test file runs on: the vitest project sets KMS_TEST_STORE to `sqlite` or
 * `postgres`. On PostgreSQL every test gets a database of its own on the shared server
 * (127.0.0.1:5432, trust auth), dropped afterwards, so test files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type TestStore = 'sqlite' | 'postgres';

export const PG_ADMIN_URL =
  process.env.KMS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function testStore(): TestStore {
  const s = process.env.KMS_TEST_STORE ?? 'sqlite';
  if (s !== 'sqlite' && s !== 'postgres')
    throw new Error(`KMS_TEST_STORE must be sqlite or postgres, not ${s}`);
  return s;
}

/** Creates an empty database; returns its URL and a drop function. */
export async function createPgDatabase(
  adminUrl = PG_ADMIN_URL,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kms_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
