/**
 * src/store/invalidation.ts on both engines: a bump fires its domain's callbacks when its
 * transaction commits, and also when the writer saw the transaction fail, because a COMMIT whose
 * answer was lost may have been durable (ARCHITECTURE.md "Caches": the very next request on the
 * same instance must not be served from the old cache).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invalidations } from '../../src/store/invalidation.js';
import { Writer } from '../../src/store/writer.js';
import type { Store } from '../../src/store/database.js';
import { lostAcks } from '../support/lost-ack.js';
import { openTestStore } from '../support/open-store.js';

describe('Invalidations', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => ({ store, dispose } = await openTestStore()));
  afterAll(() => dispose());

  const generation = async () =>
    Number(
      (
        await store.db
          .selectFrom('invalidations')
          .select('generation')
          .where('domain', '=', 'keys')
          .executeTakeFirst()
      )?.generation ?? 0,
    );

  it('fires on commit, and for a transaction that may have committed though the writer saw it fail', async () => {
    const { db, lose } = lostAcks(store.db);
    const writer = new Writer(db);
    const inv = new Invalidations(store.db, writer, 60_000);
    let fired = 0;
    inv.on('keys', () => void (fired += 1));
    try {
      await writer.run((trx) => inv.bump(trx, 'keys'));
      expect(fired).toBe(1);
      expect(await generation()).toBe(1);

      lose(1);
      await expect(writer.run((trx) => inv.bump(trx, 'keys'))).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      expect(await generation()).toBe(2);
      expect(fired).toBeGreaterThanOrEqual(2);
    } finally {
      inv.stop();
      await writer.close();
    }
  });
});
