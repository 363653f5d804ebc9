/** A migrated store of the vitest project's engine, in a temp dir or a fresh PostgreSQL database. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/database.js';
import { createPgDatabase, testStore } from './store.js';

export async function openTestStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-store-'));
  const pg = testStore() === 'postgres' ? await createPgDatabase() : undefined;
  const store = await openStore({ url: pg?.url ?? '', sqlitePath: path.join(dir, 'kms.sqlite') });
  return {
    store,
    async dispose() {
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
