/**
 * src/store/experience-salts.ts on PostgreSQL (SQLite has one writer: nothing can commit between a
 * transaction's statements): a user's deletion zeroes every live salt and marks destroyed only the
 * salts it zeroed. A salt another instance's encrypt commits between its two statements (each
 * reads a fresh snapshot) is never left intact under a destroyed mark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import type { Store } from '../../src/store/database.js';
import { SALT_BYTES, destroySalts } from '../../src/store/experience-salts.js';
import type { Trx } from '../../src/store/writer.js';
import { openTestStore } from '../support/open-store.js';

let opened: { store: Store; dispose(): Promise<void> };
beforeAll(async () => {
  opened = await openTestStore();
});
afterAll(async () => {
  await opened?.dispose();
});

const user = Buffer.alloc(32, 7);
const salt = (g: number) => ({
  user_hash: user,
  generation: g,
  salt: Buffer.alloc(SALT_BYTES, 0x40 + g),
  created_at: g,
  destroyed_at: null,
});

describe('destroySalts', () => {
  it('never marks destroyed a salt it did not zero', async () => {
    const db = opened.store.db;
    await db.insertInto('experience_salts').values(salt(1)).execute();
    // After the first statement (the zeroing), another connection commits generation 2.
    let statements = 0;
    const interleave: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        if (++statements === 1) await db.insertInto('experience_salts').values(salt(2)).execute();
        return args.result;
      },
    };
    const destroyed = await db
      .transaction()
      .execute((trx) => destroySalts(trx.withPlugin(interleave) as Trx, user, 99));
    expect(destroyed).toBe(1);
    const rows = await db
      .selectFrom('experience_salts')
      .select(['generation', 'salt', 'destroyed_at'])
      .where('user_hash', '=', user)
      .orderBy('generation')
      .execute();
    expect(
      rows.map((r) => [
        r.generation,
        Buffer.from(r.salt).equals(Buffer.alloc(SALT_BYTES)),
        r.destroyed_at === null ? null : Number(r.destroyed_at),
      ]),
    ).toEqual([
      [1, true, 99],
      [2, false, null],
    ]);
  });
});
