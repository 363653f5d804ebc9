/** src/store/compiled.ts: statements compiled once run with each call's values, on both engines. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql, type KyselyPlugin } from 'kysely';
import { preparedName, statement } from '../../src/store/compiled.js';
import type { Store } from '../../src/store/database.js';
import type { BridgeNoncesTable } from '../../src/store/bridge-nonces.js';
import { openTestStore } from '../support/open-store.js';

type Key = Pick<BridgeNoncesTable, 'public_key' | 'target_chain' | 'nonce'>;

const INSERT = statement<BridgeNoncesTable>(
  ['public_key', 'target_chain', 'nonce', 'message_hash', 'signature', 'key_name', 'created_at'],
  (db, v) => db.insertInto('bridge_nonces').values(v),
);
const SELECT = statement<Key>(['public_key', 'target_chain', 'nonce'], (db, k) =>
  db
    .selectFrom('bridge_nonces')
    .select(['message_hash', 'key_name', 'created_at'])
    .where('public_key', '=', k.public_key)
    .where('target_chain', '=', k.target_chain)
    .where('nonce', '=', k.nonce),
);

/** A statement used by no other test, and its SQL on each engine. */
const SELECT_ONLY = statement<Key>(['public_key', 'target_chain', 'nonce'], (db, k) =>
  db
    .selectFrom('bridge_nonces')
    .select('created_at')
    .where('public_key', '=', k.public_key)
    .where('target_chain', '=', k.target_chain)
    .where('nonce', '=', k.nonce),
);
const SELECT_TEXT = {
  sqlite:
    'select "created_at" from "bridge_nonces" where "public_key" = ? and "target_chain" = ? and "nonce" = ?',
  postgres:
    'select "created_at" from "bridge_nonces" where "public_key" = $1 and "target_chain" = $2 and "nonce" = $3',
};

function row(i: number): BridgeNoncesTable {
  return {
    public_key: Buffer.alloc(48, i),
    target_chain: String(120 + (i % 2)).padStart(20, '0'),
    nonce: String(i).padStart(20, '0'),
    message_hash: Buffer.alloc(32, 255 - i),
    signature: Buffer.alloc(96, i),
    key_name: `key-${i}`,
    created_at: 1_700_000_000_000 + i,
  };
}

/** The row's primary key, as SELECT takes it. */
const keyOf = (r: BridgeNoncesTable): Key => ({
  public_key: r.public_key,
  target_chain: r.target_chain,
  nonce: r.nonce,
});
/** What SELECT reads back of the row. */
const selected = (r: BridgeNoncesTable) => ({
  message_hash: r.message_hash,
  key_name: r.key_name,
  created_at: r.created_at,
});

describe('compiled statements', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => ({ store, dispose } = await openTestStore()));
  afterAll(() => dispose());

  it('run with the values of each call, and read back what the query builder reads', async () => {
    for (let i = 0; i < 5; i++) await INSERT.execute(store.db, row(i));
    for (let i = 0; i < 5; i++) {
      const r = row(i);
      const key = keyOf(r);
      const { rows } = await SELECT.execute<Record<string, unknown>>(store.db, key);
      const built = await store.db
        .selectFrom('bridge_nonces')
        .select(['message_hash', 'key_name', 'created_at'])
        .where('nonce', '=', r.nonce)
        .execute();
      expect(rows).toEqual(built);
      expect(rows).toEqual([selected(r)]);
    }
  });

  it('run inside a transaction and roll back with it', async () => {
    await expect(
      store.db.transaction().execute(async (trx) => {
        await INSERT.execute(trx, row(9));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const r = row(9);
    const { rows } = await SELECT.execute(store.db, keyOf(r));
    expect(rows).toEqual([]);
  });

  it("given a transaction on SQLite, run on its connection directly, not through Kysely's executor", async () => {
    const r = row(30);
    const key = keyOf(r);
    const seen = await store.db.transaction().execute(async (trx) => {
      const spy = vi.spyOn(trx, 'executeQuery');
      const inserted = await INSERT.execute(trx, r);
      const { rows } = await SELECT.execute<Record<string, unknown>>(trx, key);
      return { inserted, rows, throughKysely: spy.mock.calls.length };
    });
    expect(seen.inserted.numAffectedRows).toBe(1n);
    expect(seen.rows).toEqual([selected(r)]);
    expect(seen.throughKysely).toBe(store.engine === 'sqlite' ? 0 : 2);
  });

  it('go through the executor when the database has plugins, so the plugins see them', async () => {
    const r = row(32);
    const key = keyOf(r);
    const seen: unknown[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => {
        seen.push(result.rows);
        return result;
      },
    };
    await store.db
      .withPlugin(recorder)
      .transaction()
      .execute(async (trx) => {
        await INSERT.execute(trx, r);
        await SELECT.execute(trx, key);
      });
    expect(seen).toEqual([[], [selected(r)]]);
  });

  it('outside a transaction wait for the one in progress, and never read its uncommitted writes', async () => {
    const r = row(31);
    const key = keyOf(r);
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let insertedRow!: () => void;
    const inserted = new Promise<void>((resolve) => (insertedRow = resolve));
    const txn = store.db.transaction().execute(async (trx) => {
      await INSERT.execute(trx, r);
      insertedRow();
      await held;
      events.push('commit');
    });
    await inserted;
    const read = SELECT.execute(store.db, key).then((res) => {
      events.push(`read ${res.rows.length}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // SQLite: the one connection is the transaction's until it ends. PostgreSQL: another
    // connection, which does not see the uncommitted row.
    expect(events).toEqual(store.engine === 'sqlite' ? [] : ['read 0']);
    release();
    await Promise.all([txn, read]);
    expect(events).toEqual(store.engine === 'sqlite' ? ['commit', 'read 1'] : ['read 0', 'commit']);
  });

  it('are kept prepared by name on PostgreSQL, parsed once per connection', async () => {
    const r = row(20);
    const key = keyOf(r);
    const text = SELECT_TEXT[store.engine];
    expect(preparedName(text)).toBeUndefined();
    const names = await store.db.transaction().execute(async (trx) => {
      await SELECT_ONLY.execute(trx, key);
      await SELECT_ONLY.execute(trx, key);
      if (store.engine === 'sqlite') return [];
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(
        trx,
      );
      return prepared.rows.map((p) => p.name);
    });
    expect(preparedName(text)).toMatch(/^kms_\d+$/);
    if (store.engine === 'postgres') expect(names).toContain(preparedName(text));
  });

  it('refuse a build that does not take a value as a parameter', async () => {
    const broken = statement<{ domain: string; unused: string }>(['domain', 'unused'], (db, v) =>
      db.selectFrom('invalidations').select('generation').where('domain', '=', v.domain),
    );
    await expect(broken.execute(store.db, { domain: 'keys', unused: 'x' })).rejects.toThrow(
      /value unused is not a parameter/,
    );
  });
});
