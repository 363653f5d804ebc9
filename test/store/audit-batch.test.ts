/**
 * src/audit/log.ts with the writer on both engines: the events of a shared commit are written
 * just before it, in chain order, in multi-row inserts; an operation rolled back to its savepoint
 * takes its event with it, and the chain stays whole (verifyAudit recomputes every hash).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, audited } from '../../src/audit/log.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { Writer } from '../../src/store/writer.js';
import type { Store } from '../../src/store/database.js';
import { KmsError } from '../../src/errors.js';
import { lostAcks } from '../support/lost-ack.js';
import { openTestStore } from '../support/open-store.js';

describe('audit events of a batch', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let writer: Writer;
  let log: AuditLog;
  beforeAll(async () => {
    ({ store, dispose } = await openTestStore());
    writer = new Writer(store.db);
    log = await openLog(writer, 'kms-batch');
  });
  afterAll(async () => {
    await writer.close();
    await dispose();
  });

  /** One instance's chain on `w`, checkpoints out of the way. */
  const openLog = async (w: Writer, instance: string): Promise<AuditLog> => {
    const chain = new AuditLog({
      db: store.db,
      writer: w,
      instance,
      checkpointEvery: 1_000_000,
      checkpointIntervalMs: 3_600_000,
    });
    await chain.init();
    return chain;
  };

  const actions = async () =>
    (
      await store.db
        .selectFrom('audit_events')
        .select(['seq', 'action', 'outcome'])
        .orderBy('seq')
        .execute()
    ).map((r) => `${Number(r.seq)} ${r.action} ${r.outcome}`);

  it('writes 100 events of one commit in order, chained', async () => {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => audited(log, writer, { action: `bulk.${i}` })),
    );
    const rows = await actions();
    expect(rows).toHaveLength(100);
    expect(rows[0]).toBe('1 bulk.0 success');
    expect(rows[99]).toBe('100 bulk.99 success');
    expect((await verifyAudit(store.db, async () => true)).ok).toBe(true);
  });

  it('records U+0000 in a field as U+FFFD, without failing the events it is written with', async () => {
    const results = await Promise.allSettled([
      audited(log, writer, { action: 'nul.neighbour' }),
      audited(log, writer, {
        action: 'nul.field',
        keyName: 'key\u0000name',
        details: { ['k\u0000']: 'v\u0000' },
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const row = await store.db
      .selectFrom('audit_events')
      .select(['key_name', 'details'])
      .where('action', '=', 'nul.field')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ key_name: 'key\ufffdname', details: '{"k\ufffd":"v\ufffd"}' });
    expect((await verifyAudit(store.db, async () => true)).ok).toBe(true);
  });

  it('keeps the event of a refused body and drops the event of an operation that failed', async () => {
    const results = await Promise.allSettled([
      audited(log, writer, { action: 'kept.before' }),
      audited(log, writer, { action: 'refused' }, async (trx) => {
        await trx
          .insertInto('invalidations')
          .values({ domain: 'refused', generation: 1 })
          .execute();
        throw new KmsError('DOUBLE_SIGN', 'refused');
      }),
      // Appends, then fails: its savepoint is rolled back, and its event with it.
      writer.run(async (trx) => {
        await log.append(trx, { action: 'failed.after.append' }, 'success');
        throw new Error('failed after its event');
      }),
      audited(log, writer, { action: 'kept.after' }),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((await actions()).slice(102)).toEqual([
      '103 kept.before success',
      '104 refused refused',
      '105 kept.after success',
    ]);
    const written = await store.db
      .selectFrom('invalidations')
      .select('domain')
      .where('domain', '=', 'refused')
      .execute();
    expect(written).toEqual([]);
    expect((await verifyAudit(store.db, async () => true)).ok).toBe(true);
  });

  it('finds U+0000 wherever it is alone: a detail value, a detail key, the request id', async () => {
    await Promise.all([
      audited(log, writer, { action: 'alone.value', details: { b: 1, a: 'v\u0000' } }),
      audited(log, writer, { action: 'alone.key', details: { ['k\u0000']: 1 } }),
      audited(log, writer, { action: 'alone.request', requestId: 'r\u0000' }),
    ]);
    const rows = await store.db
      .selectFrom('audit_events')
      .select(['action', 'request_id', 'details'])
      .where('action', 'like', 'alone.%')
      .orderBy('seq')
      .execute();
    expect(rows).toEqual([
      { action: 'alone.value', request_id: null, details: '{"b":1,"a":"v\ufffd"}' },
      { action: 'alone.key', request_id: null, details: '{"k\ufffd":1}' },
      { action: 'alone.request', request_id: 'r\ufffd', details: null },
    ]);
    expect((await verifyAudit(store.db, async () => true)).ok).toBe(true);
  });

  it('chains on from what is stored after a COMMIT whose answer was lost', async () => {
    const { db, lose } = lostAcks(store.db);
    const w = new Writer(db);
    const chain = await openLog(w, 'kms-lost-ack');
    try {
      await audited(chain, w, { action: 'ack.before' });
      lose(1);
      // Refused as unavailable, and not run again: the COMMIT may have been applied.
      await expect(audited(chain, w, { action: 'ack.lost' })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      // It was stored, which the memory did not learn: the next events must follow it, not
      // collide with it.
      await audited(chain, w, { action: 'ack.after.1' });
      await Promise.all([
        audited(chain, w, { action: 'ack.after.2' }),
        audited(chain, w, { action: 'ack.after.3' }),
      ]);
      const rows = await store.db
        .selectFrom('audit_events')
        .select(['seq', 'action'])
        .where('instance', '=', 'kms-lost-ack')
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => `${Number(r.seq)} ${r.action}`)).toEqual([
        '1 ack.before',
        '2 ack.lost',
        '3 ack.after.1',
        '4 ack.after.2',
        '5 ack.after.3',
      ]);
      expect((await verifyAudit(store.db, async () => true)).ok).toBe(true);
    } finally {
      await w.close();
    }
  });
});
