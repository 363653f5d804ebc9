/**
 * src/audit/checkpoint.ts chainHeads on both engines: every chain's length and head, found by
 * probing the primary key (it runs at every checkpoint, so it must not scan the events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHeads } from '../../src/audit/checkpoint.js';
import { AuditLog } from '../../src/audit/log.js';
import { Writer } from '../../src/store/writer.js';
import type { Store } from '../../src/store/database.js';
import { openTestStore } from '../support/open-store.js';

describe('chainHeads', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => ({ store, dispose } = await openTestStore()));
  afterAll(() => dispose());

  async function appendTo(instance: string, events: number): Promise<string> {
    const writer = new Writer(store.db);
    const log = new AuditLog({
      db: store.db,
      writer,
      instance,
      checkpointEvery: 1_000_000,
      checkpointIntervalMs: 3_600_000,
    });
    await log.init();
    for (let i = 0; i < events; i++)
      await writer.run((trx) => log.append(trx, { action: `test.${i}` }, 'success'));
    await writer.close();
    const last = await store.db
      .selectFrom('audit_events')
      .select('hash')
      .where('instance', '=', instance)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    return Buffer.from(last.hash).toString('hex');
  }

  it('is empty without events', async () => {
    expect(await chainHeads(store.db)).toEqual([]);
  });

  it("gives every chain's length and last hash, by instance", async () => {
    const b = await appendTo('kms-b', 7);
    const a = await appendTo('kms-a', 3);
    const c = await appendTo('kms-c-1', 12);
    expect(await chainHeads(store.db)).toEqual([
      { instance: 'kms-a', events: 3, head: a },
      { instance: 'kms-b', events: 7, head: b },
      { instance: 'kms-c-1', events: 12, head: c },
    ]);
  });
});
