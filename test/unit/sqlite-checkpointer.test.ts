/**
 * src/store/checkpointer.ts: the SQLite WAL is copied back into the database file by the worker's
 * own connection, not by a COMMIT of the writing connection (whose threshold is set far above
 * what this test writes), and closing the store stops the worker.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from '../../src/store/checkpointer.js';

describe('SQLite checkpoints on a worker thread', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-checkpointer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('moves committed pages into the database file while the writer goes on, and stops at close', async () => {
    const file = path.join(dir, 'kms.sqlite');
    const store = await openStore({ url: '', sqlitePath: file });
    const threshold = await sql<{
      wal_autocheckpoint: number;
    }>`pragma wal_autocheckpoint`.execute(store.db);
    expect(threshold.rows[0]?.wal_autocheckpoint).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
    // ~2.5 MB of rows in 50 commits: 600-odd pages, far below the writer's own threshold.
    for (let batch = 0; batch < 50; batch++) {
      await store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 40; i++) {
          await trx
            .insertInto('invalidations')
            .values({ domain: `ckpt-${batch}-${i}-${'x'.repeat(1000)}`, generation: 1 })
            .execute();
        }
      });
    }
    const deadline = Date.now() + 10_000;
    while (statSync(file).size < 2_000_000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(statSync(file).size).toBeGreaterThan(2_000_000);
    await store.close();
    // Reopened: everything is there.
    const again = await openStore({ url: '', sqlitePath: file });
    const n = await again.db
      .selectFrom('invalidations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('domain', 'like', 'ckpt-%')
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(2000);
    await again.close();
  });
});
