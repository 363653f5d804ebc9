/**
 * src/store/writer.ts on both engines: operations that arrive while the writer is busy or in the
 * same event-loop turn share one commit (group commit, docs/performance.md), each under its own
 * savepoint, and each settles only after its commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writer, commitOutcomeUnknown } from '../../src/store/writer.js';
import type { Store } from '../../src/store/database.js';
import { lostAcks } from '../support/lost-ack.js';
import { openTestStore } from '../support/open-store.js';

describe('Writer', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => ({ store, dispose } = await openTestStore()));
  afterAll(() => dispose());

  const bump = (domain: string) => (trx: Parameters<Parameters<Writer['run']>[0]>[0]) =>
    trx
      .insertInto('invalidations')
      .values({ domain, generation: 1 })
      .onConflict((oc) => oc.column('domain').doUpdateSet({ generation: 2 }))
      .execute();

  it('commits operations queued from separate I/O callbacks of one loop turn together', async () => {
    const writer = new Writer(store.db);
    let commits = 0;
    writer.addListener({ committed: () => void (commits += 1), rolledBack: () => undefined });
    // Each operation arrives from its own macrotask, as requests read from separate sockets do.
    const ops = await Promise.all(
      Array.from(
        { length: 64 },
        (_, i) =>
          new Promise<unknown>((resolve, reject) =>
            setImmediate(() => writer.run(bump(`group-${i}`)).then(resolve, reject)),
          ),
      ),
    );
    expect(ops).toHaveLength(64);
    // SQLite runs a transaction without yielding: without the writer's loop turn this was 64.
    expect(commits).toBeLessThanOrEqual(2);
    const n = await store.db
      .selectFrom('invalidations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('domain', 'like', 'group-%')
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(64);
    await writer.close();
  });

  it('keeps gathering while each loop turn brings more operations, and commits a lone one after one turn', async () => {
    const writer = new Writer(store.db);
    let commits = 0;
    writer.addListener({ committed: () => void (commits += 1), rolledBack: () => undefined });
    // A stream of operations arriving one per loop turn (as signatures come back from the BLS
    // workers, one or two per turn), each turn's arrival before the writer's own turn. With a
    // single turn of gathering these 8 took 4 commits on PostgreSQL.
    const chained: Promise<unknown>[] = [];
    await new Promise<void>((done) => {
      const arrive = (i: number) => {
        if (i < 7) setImmediate(() => arrive(i + 1));
        else setImmediate(done);
        chained.push(writer.run(bump(`stream-${i}`)));
      };
      arrive(0);
    });
    await Promise.all(chained);
    expect(commits).toBeLessThanOrEqual(2);
    const before = commits;
    await writer.run(bump('lone'));
    expect(commits).toBe(before + 1);
    await writer.close();
  });

  it('lets an operation undo its writes so far and go on, also after a failed statement', async () => {
    const writer = new Writer(store.db);
    const [, other] = await Promise.all([
      writer.run(async (trx, undo) => {
        await bump('undone')(trx);
        // A failing statement (on PostgreSQL it aborts the transaction until the rollback).
        await trx
          .insertInto('invalidations')
          .values({ domain: 'undone', generation: 1 })
          .execute()
          .catch(() => undefined);
        await undo();
        await bump('after-undo')(trx);
      }),
      writer.run(bump('neighbour')),
    ]);
    expect(other).toBeDefined();
    const domains = await store.db
      .selectFrom('invalidations')
      .select('domain')
      .where('domain', 'in', ['undone', 'after-undo', 'neighbour'])
      .orderBy('domain')
      .execute();
    expect(domains.map((d) => d.domain)).toEqual(['after-undo', 'neighbour']);
    await writer.close();
  });

  it('runs each operation of a batch once when all succeed, again with savepoints when one fails', async () => {
    const writer = new Writer(store.db);
    const runs = new Map<string, number>();
    const counted = (domain: string, fail = false) =>
      writer.run(async (trx) => {
        runs.set(domain, (runs.get(domain) ?? 0) + 1);
        await bump(domain)(trx);
        if (fail) throw new Error('refused');
      });
    await Promise.all([counted('once-1'), counted('once-2'), counted('once-3')]);
    expect([...runs.values()]).toEqual([1, 1, 1]);
    runs.clear();
    const mixed = await Promise.allSettled([
      counted('twice-1'),
      counted('failing', true),
      counted('once-more'),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // The first attempt stops at the failure; the batch then runs once more, with savepoints.
    expect(Object.fromEntries(runs)).toEqual({ 'twice-1': 2, failing: 2, 'once-more': 1 });
    await writer.close();
  });

  it('rolls back only the operation that failed in a shared commit', async () => {
    const writer = new Writer(store.db);
    const results = await Promise.allSettled([
      writer.run(bump('kept-1')),
      writer.run(async (trx) => {
        await bump('dropped')(trx);
        throw new Error('refused');
      }),
      writer.run(bump('kept-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const domains = await store.db
      .selectFrom('invalidations')
      .select('domain')
      .where('domain', 'in', ['kept-1', 'dropped', 'kept-2'])
      .orderBy('domain')
      .execute();
    expect(domains.map((d) => d.domain)).toEqual(['kept-1', 'kept-2']);
    await writer.close();
  });

  const stored = async (domain: string) =>
    (
      await store.db
        .selectFrom('invalidations')
        .select('domain')
        .where('domain', '=', domain)
        .execute()
    ).length;

  it('does not run a batch again when the answer to its COMMIT was lost', async () => {
    const { db, lose } = lostAcks(store.db);
    const writer = new Writer(db);
    let runs = 0;
    lose(1);
    await expect(
      writer.run(async (trx) => {
        runs += 1;
        await bump('lost-answer')(trx);
      }),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: /may have been applied/ });
    // Applied once (the COMMIT was real), run once: a second run could apply it twice.
    expect(runs).toBe(1);
    expect(await stored('lost-answer')).toBe(1);
    await writer.run(bump('after-lost-answer'));
    await writer.close();
  });

  it('runs a batch again when the database refused its COMMIT (rolled back, with a SQLSTATE)', async () => {
    const { db, refuse } = lostAcks(store.db);
    const writer = new Writer(db);
    let runs = 0;
    refuse(
      1,
      Object.assign(new Error('could not serialize access'), { code: '40001', severity: 'ERROR' }),
    );
    await writer.run(async (trx) => {
      runs += 1;
      await bump('refused-commit')(trx);
    });
    expect(runs).toBe(2);
    expect(await stored('refused-commit')).toBe(1);
    await writer.close();
  });

  it('tells a COMMIT that may have been applied from one the database rolled back', () => {
    const server = (code: string) => Object.assign(new Error(code), { code, severity: 'ERROR' });
    const sqlite = (code: string) => Object.assign(new Error(code), { code });
    const net = (code: string) => Object.assign(new Error(code), { code, syscall: 'read' });
    expect(commitOutcomeUnknown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(commitOutcomeUnknown(net('ECONNRESET'))).toBe(true);
    expect(commitOutcomeUnknown(net('EPIPE'))).toBe(true);
    expect(commitOutcomeUnknown(server('57P01'))).toBe(true); // admin shutdown
    expect(commitOutcomeUnknown(server('08006'))).toBe(true);
    expect(commitOutcomeUnknown(server('XX000'))).toBe(true);
    expect(commitOutcomeUnknown(sqlite('SQLITE_IOERR_FSYNC'))).toBe(true);
    expect(commitOutcomeUnknown(server('40001'))).toBe(false);
    expect(commitOutcomeUnknown(server('23505'))).toBe(false);
    expect(commitOutcomeUnknown(sqlite('SQLITE_FULL'))).toBe(false);
    expect(commitOutcomeUnknown(sqlite('SQLITE_BUSY'))).toBe(false);
  });
});
