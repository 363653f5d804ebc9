/**
 * The single write path: every state change (and every audit event) goes through `Writer.run`.
 * Operations queued while a transaction is in flight are committed together in the next one
 * (group commit, ARCHITECTURE.md "Audit"): durability stays `synchronous=FULL` /
 * `synchronous_commit=on`, but one fsync serves many operations. A batch in which an operation
 * fails runs again with a savepoint per operation, so one failing operation rolls back only its
 * own writes. An operation's promise settles only after the commit that holds it, so nothing is
 * released before it is durable.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { KmsError, isKmsError } from '../errors.js';
import { constant } from './compiled.js';

export type Trx = Transaction<Database>;
/**
 * One operation; it may run more than once (a batch run again with savepoints, a deadlock retry),
 * so it only reads and writes through `trx`. `undo` rolls its writes so far back (to its
 * savepoint) and lets it go on in the same transaction: `audited` records a refused body's event
 * that way, without a second savepoint (one round trip each on PostgreSQL; docs/performance.md).
 */
export type Op<T> = (trx: Trx, undo: () => Promise<void>) => Promise<T>;

/** Hooks of the layer that keeps in-memory state which must follow commits (the audit chain head). */
export interface CommitListener {
  /** First, inside each transaction, before its operations (re-reads state a failure made uncertain). */
  beforeOperations?(trx: Trx): Promise<void>;
  /** Last writes of the batch, inside its transaction, after its operations (the audit events). */
  beforeCommit?(trx: Trx): Promise<void>;
  /** An operation starts under its savepoint... */
  operationStarted?(): void;
  /** ...and its writes were rolled back to it (it failed, or undid them). */
  operationRolledBack?(): void;
  committed(): void;
  /**
   * The transaction failed. Usually nothing of it was written, but a COMMIT whose answer was lost
   * with the connection may have been durable all the same, so state kept in memory is uncertain.
   */
  rolledBack(): void;
}

interface Pending {
  op: Op<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  attempts: number;
}

const MAX_BATCH = 512;
/** How long a batch may keep waiting for more operations, while each loop turn brings some. */
const GATHER_MS = 1;
const MAX_ATTEMPTS = 5;
/** Batches run with savepoints after one that needed them, so a stream of refusals costs little. */
const CAREFUL_AFTER_FAILURE = 16;
/** PostgreSQL: deadlock_detected, serialization_failure. */
const RETRYABLE = new Set(['40P01', '40001']);

const COMMIT_UNKNOWN =
  'the store did not answer the commit, which may have been applied; retry the same request';

/**
 * Whether a failed COMMIT may have been applied all the same. Known rolled back: a PostgreSQL
 * error the server sent (it has a severity and a SQLSTATE) outside the classes that end the
 * connection (08 connection exception, 57 operator intervention: a shutdown can end a backend
 * after its commit record was flushed, 58 system error, XX internal), or an SQLite result code
 * other than an I/O error. Anything else (a dropped socket, a timeout) leaves the outcome unknown.
 */
export function commitOutcomeUnknown(e: unknown): boolean {
  const err = e as { code?: unknown; severity?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code.startsWith('SQLITE_')) return code.startsWith('SQLITE_IOERR');
  if (typeof err?.severity === 'string' && /^[0-9A-Z]{5}$/.test(code))
    return /^(08|57|58|XX)/.test(code);
  return true;
}

/** A PostgreSQL deadlock or serialization failure: the writer runs the operation again. */
export function isRetryable(e: unknown): boolean {
  return RETRYABLE.has((e as { code?: string } | null)?.code ?? '');
}

export class Writer {
  private queue: Pending[] = [];
  private running = false;
  private closed = false;
  private readonly listeners: CommitListener[] = [];
  private careful = 0;

  constructor(private readonly db: Kysely<Database>) {}

  addListener(l: CommitListener): void {
    this.listeners.push(l);
  }

  run<T>(op: Op<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new KmsError('STORE_UNAVAILABLE', 'the store is closing'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject, attempts: 0 });
      if (!this.running) void this.drain();
    });
  }

  /** Waits for queued work, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        await this.gather();
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.commitBatch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Lets operations join the next commit. better-sqlite3 is synchronous: a whole transaction (its
   * fsync included) runs without yielding, so without a turn of the event loop nothing could join
   * a batch and every commit would hold one operation. One turn lets in what arrived meanwhile
   * (requests read from their sockets, signatures back from the BLS workers); while each turn
   * still brings more, more turns are taken, for at most GATHER_MS, so under load a commit serves
   * many operations (each commit writes every page it touched to the WAL and fsyncs it), and a
   * lone operation waits one turn only (docs/performance.md).
   */
  private async gather(): Promise<void> {
    const started = performance.now();
    for (;;) {
      const before = this.queue.length;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.queue.length === before || this.queue.length >= MAX_BATCH) return;
      if (performance.now() - started >= GATHER_MS) return;
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    if (this.careful > 0) this.careful -= 1;
    else if (await this.commitWithoutSavepoints(batch)) return;
    else this.careful = CAREFUL_AFTER_FAILURE;
    await this.commitWithSavepoints(batch);
  }

  /**
   * The common case: every operation of the batch succeeds, and then none needs a savepoint (two
   * statements fewer per operation: two round trips on PostgreSQL, docs/performance.md). Any
   * failure, or an operation asking to undo, rolls the whole batch back, and it runs again with a
   * savepoint per operation, where each gets its own outcome. Operations must therefore be safe
   * to run again, as the retry of a deadlock already requires. Not so a COMMIT whose answer was
   * lost (`commitOutcomeUnknown`): it may have been applied, so the batch is not run again (a key
   * rotated twice, an event written twice); its operations are refused as unavailable and the
   * clients' retries meet what is stored (the signing paths answer the stored signature).
   * Resolves true once every operation of the batch is settled, false to run it again.
   */
  private async commitWithoutSavepoints(batch: Pending[]): Promise<boolean> {
    const values: unknown[] = [];
    let committing = false;
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.beforeOperations(trx);
        for (const p of batch) values.push(await p.op(trx, needsSavepoint));
        await this.beforeCommit(trx);
        committing = true;
      });
    } catch (e) {
      for (const l of this.listeners) l.rolledBack();
      if (!committing || !commitOutcomeUnknown(e)) return false;
      const err = new KmsError('STORE_UNAVAILABLE', COMMIT_UNKNOWN, { cause: e });
      for (const p of batch) p.reject(err);
      return true;
    }
    for (const l of this.listeners) l.committed();
    batch.forEach((p, i) => p.resolve(values[i]));
    return true;
  }

  private async commitWithSavepoints(batch: Pending[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const retry: Pending[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.beforeOperations(trx);
        for (const p of batch) {
          const out = await this.runOne(trx, p);
          if (out === 'retry') retry.push(p);
          outcomes.push(out === 'retry' ? { ok: false, value: undefined } : out);
        }
        await this.beforeCommit(trx);
      });
    } catch (e) {
      for (const l of this.listeners) l.rolledBack();
      const err = isKmsError(e) ? e : new KmsError('STORE_UNAVAILABLE', undefined, { cause: e });
      for (const p of batch) p.reject(err);
      return;
    }
    for (const l of this.listeners) l.committed();
    batch.forEach((p, i) => {
      if (retry.includes(p)) return this.requeue(p);
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.value);
    });
  }

  private async beforeOperations(trx: Trx): Promise<void> {
    for (const l of this.listeners) await l.beforeOperations?.(trx);
  }

  private async beforeCommit(trx: Trx): Promise<void> {
    for (const l of this.listeners) await l.beforeCommit?.(trx);
  }

  private async runOne(trx: Trx, p: Pending): Promise<{ ok: boolean; value: unknown } | 'retry'> {
    await trx.executeQuery(SAVEPOINT);
    for (const l of this.listeners) l.operationStarted?.();
    const rollback = async () => {
      await trx.executeQuery(ROLLBACK);
      for (const l of this.listeners) l.operationRolledBack?.();
    };
    try {
      const value = await p.op(trx, rollback);
      await trx.executeQuery(RELEASE);
      return { ok: true, value };
    } catch (e) {
      await rollback();
      await trx.executeQuery(RELEASE);
      if (isRetryable(e)) return 'retry';
      return {
        ok: false,
        value: isKmsError(e) ? e : new KmsError('STORE_UNAVAILABLE', undefined, { cause: e }),
      };
    }
  }

  private requeue(p: Pending): void {
    p.attempts += 1;
    if (p.attempts >= MAX_ATTEMPTS)
      return p.reject(new KmsError('STORE_UNAVAILABLE', 'the store kept aborting this operation'));
    this.queue.push(p);
  }
}

/** `undo` of a batch run without savepoints: the batch is run again with them. */
class NeedsSavepoint extends Error {}
const needsSavepoint = () => Promise.reject(new NeedsSavepoint('undo needs a savepoint'));

const SAVEPOINT = constant('savepoint op');
const ROLLBACK = constant('rollback to savepoint op');
const RELEASE = constant('release savepoint op');
