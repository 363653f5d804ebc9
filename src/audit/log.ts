/**
 * This instance's audit chain: appends inside the caller's transaction, follows commits (the
 * in-memory head only advances when the batch holding the event commits), and makes signed
 * checkpoints every `checkpointEvery` events or `checkpointIntervalMs`. Fail closed: an event that
 * cannot be written fails its operation with AUDIT_UNAVAILABLE.
 */
import type { Kysely } from 'kysely';
import type { AuditEventsTable, Database } from '../store/schema.js';
import { isRetryable, type CommitListener, type Trx, type Writer } from '../store/writer.js';
import { KmsError, isKmsError } from '../errors.js';
import { GENESIS, chainHash, type AuditEvent, type AuditFields, type Outcome } from './event.js';
import { positional, type Statement } from '../store/compiled.js';
import { makeCheckpoint, type CheckpointSigner } from './checkpoint.js';

interface Head {
  seq: number;
  hash: Uint8Array;
}

const COLUMNS = [
  'instance',
  'seq',
  'ts',
  'principal',
  'action',
  'key_name',
  'key_version',
  'outcome',
  'code',
  'request_id',
  'digest',
  'details',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof AuditEventsTable)[];
const inserts = new Map<number, Statement<readonly unknown[]>>();

/**
 * The insert of `n` events, compiled once (src/store/compiled.ts), its values row by row in the
 * order of COLUMNS; a batch's events are written by few of them, in chunks of powers of two up to
 * 64 (at most seven statements to prepare).
 */
function insertOf(n: number): Statement<readonly unknown[]> {
  let s = inserts.get(n);
  if (!s) {
    const width = COLUMNS.length;
    const rows = (v: readonly unknown[]) =>
      Array.from(
        { length: n },
        (_, i) =>
          Object.fromEntries(
            COLUMNS.map((c, j) => [c, v[i * width + j]]),
          ) as unknown as AuditEventsTable,
      );
    s = positional(n * width, (db, v) => db.insertInto('audit_events').values(rows(v)));
    inserts.set(n, s);
  }
  return s;
}

/** One event's column values, in the order of COLUMNS. */
type Row = readonly unknown[];

/** Writes `rows` with one insert per chunk: 21 rows are 16 + 4 + 1. */
async function insertEvents(trx: Trx, rows: readonly Row[]): Promise<void> {
  for (let at = 0; at < rows.length;) {
    let n = 64;
    while (n > rows.length - at) n /= 2;
    const values: unknown[] = [];
    for (let i = at; i < at + n; i++) for (const v of rows[i]!) values.push(v);
    await insertOf(n).execute(trx, values);
    at += n;
  }
}

/** U+0000 anywhere in a string (PostgreSQL text cannot hold it; a path can carry it). */
const nul = (v: unknown): v is string => typeof v === 'string' && v.includes('\u0000');
/** A text as the log stores it: U+0000 as U+FFFD (also what an audit query must look for). */
export const asStored = (v: string): string => v.replaceAll('\u0000', '\ufffd');
const clean = <T>(v: T): T => (nul(v) ? (asStored(v) as T) : v);

/**
 * The fields as both engines store them: U+0000 is recorded as U+FFFD, before the event is
 * hashed, so the stored event verifies, and one hostile request cannot fail the batch its event
 * is written with (`beforeCommit`).
 */
function storable(f: AuditFields): AuditFields {
  // Almost always nothing to replace: then the fields are taken as they are, without a copy.
  if (!hasNul(f) && !(f.details && detailsHaveNul(f.details))) return f;
  const details = f.details
    ? Object.fromEntries(Object.entries(f.details).map(([k, v]) => [clean(k), clean(v)]))
    : f.details;
  return {
    action: clean(f.action),
    principal: clean(f.principal),
    keyName: clean(f.keyName),
    keyVersion: f.keyVersion,
    requestId: clean(f.requestId),
    digest: clean(f.digest),
    details,
  };
}

function hasNul(f: AuditFields): boolean {
  return nul(f.action) || nul(f.principal) || nul(f.keyName) || nul(f.requestId) || nul(f.digest);
}

function detailsHaveNul(d: NonNullable<AuditFields['details']>): boolean {
  for (const k of Object.keys(d)) if (nul(k) || nul(d[k])) return true;
  return false;
}

export interface AuditLogOptions {
  readonly db: Kysely<Database>;
  readonly writer: Writer;
  readonly instance: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly now?: () => number;
  readonly onError?: (e: unknown) => void;
}

export class AuditLog implements CommitListener {
  private committedHead: Head = { seq: 0, hash: GENESIS };
  private pendingHead: Head = this.committedHead;
  /** Events appended in the running transaction, written by `beforeCommit`. */
  private buffered: Row[] = [];
  private operationMark: { buffered: number; head: Head } | undefined;
  private lastCheckpointSeq = 0;
  private headUncertain = false;
  private signer: CheckpointSigner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: AuditLogOptions) {
    this.now = opts.now ?? Date.now;
    opts.writer.addListener(this);
  }

  get instance(): string {
    return this.opts.instance;
  }

  /** Loads this instance's head; starts the checkpoint timer once a signer is set. */
  async init(): Promise<void> {
    await this.loadHead(this.opts.db);
    const cp = await this.opts.db
      .selectFrom('audit_checkpoints')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('instance', '=', this.opts.instance)
      .executeTakeFirst();
    this.lastCheckpointSeq = cp?.seq ? this.committedHead.seq : 0;
  }

  setSigner(signer: CheckpointSigner): void {
    this.signer = signer;
    this.timer = setInterval(() => void this.maybeCheckpoint(true), this.opts.checkpointIntervalMs);
    this.timer.unref();
  }

  /**
   * Appends one event to the transaction of `trx`: chained now, written with the rest of the
   * batch's events just before its COMMIT (`beforeCommit`, one statement for many events), so it
   * commits or rolls back with the operation. A failed write fails the batch (fail closed).
   */
  async append(_trx: Trx, fields: AuditFields, outcome: Outcome, code?: string): Promise<void> {
    const prev = this.pendingHead;
    const f = storable(fields);
    const event: AuditEvent = {
      action: f.action,
      principal: f.principal ?? null,
      keyName: f.keyName ?? null,
      keyVersion: f.keyVersion ?? null,
      requestId: f.requestId ?? null,
      digest: f.digest ?? null,
      details: f.details ?? null,
      instance: this.opts.instance,
      seq: prev.seq + 1,
      ts: this.now(),
      outcome,
      code: code ?? null,
    };
    const hash = chainHash(prev.hash, event);
    // In the order of COLUMNS. Hashes are never changed in place, so the previous event's own
    // Buffer can be its successor's prev_hash.
    this.buffered.push([
      event.instance,
      event.seq,
      event.ts,
      event.principal,
      event.action,
      event.keyName,
      event.keyVersion,
      outcome,
      event.code,
      event.requestId,
      event.digest,
      event.details ? JSON.stringify(event.details) : null,
      Buffer.isBuffer(prev.hash) ? prev.hash : Buffer.from(prev.hash),
      hash,
    ]);
    this.pendingHead = { seq: event.seq, hash };
  }

  async beforeCommit(trx: Trx): Promise<void> {
    const rows = this.buffered;
    this.buffered = [];
    try {
      await insertEvents(trx, rows);
    } catch (e) {
      throw new KmsError('AUDIT_UNAVAILABLE', undefined, { cause: e });
    }
  }

  /**
   * After a failed transaction the head is re-read, in the next one, before its first event: a
   * COMMIT whose answer was lost (the connection dropped, the server crashed after its WAL flush)
   * may have stored events the memory does not know, and chaining on the old head would then
   * collide with them on every later commit (the store stays down for good).
   */
  async beforeOperations(trx: Trx): Promise<void> {
    if (!this.headUncertain) return;
    await this.loadHead(trx);
    this.headUncertain = false;
  }

  private async loadHead(db: Kysely<Database>): Promise<void> {
    const last = await db
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .where('instance', '=', this.opts.instance)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    this.committedHead = this.pendingHead = last
      ? { seq: Number(last.seq), hash: last.hash }
      : { seq: 0, hash: GENESIS };
  }

  operationStarted(): void {
    this.operationMark = { buffered: this.buffered.length, head: this.pendingHead };
  }

  /** The operation's events go with its writes (its savepoint was rolled back). */
  operationRolledBack(): void {
    if (!this.operationMark) return;
    this.buffered.length = this.operationMark.buffered;
    this.pendingHead = this.operationMark.head;
  }

  committed(): void {
    this.committedHead = this.pendingHead;
    if (this.committedHead.seq - this.lastCheckpointSeq >= this.opts.checkpointEvery)
      void this.maybeCheckpoint(false);
  }

  rolledBack(): void {
    this.buffered = [];
    this.pendingHead = this.committedHead;
    this.headUncertain = true;
  }

  /** Signs a checkpoint of every chain now, if this chain moved since the last one. */
  async checkpoint(): Promise<void> {
    if (!this.signer) throw new Error('audit checkpoint signer not ready');
    const seqAt = this.committedHead.seq;
    await makeCheckpoint(
      this.opts.db,
      this.opts.writer,
      this.opts.instance,
      this.signer,
      this.now(),
    );
    this.lastCheckpointSeq = Math.max(this.lastCheckpointSeq, seqAt);
  }

  private maybeCheckpoint(timed: boolean): Promise<void> {
    if (!this.signer || this.checkpointing) return this.checkpointing ?? Promise.resolve();
    if (timed && this.committedHead.seq === this.lastCheckpointSeq) return Promise.resolve();
    this.checkpointing = this.checkpoint()
      .catch((e) => this.opts.onError?.(e))
      .finally(() => (this.checkpointing = undefined));
    return this.checkpointing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checkpointing;
  }
}

/**
 * Runs `body` as one audited operation: the body's writes and the event commit together; a body
 * that throws is rolled back and its refusal is still recorded (every operation, success or
 * refusal, makes one event). Resolves or throws only after the commit.
 */
export async function audited<T>(
  log: AuditLog,
  writer: Writer,
  fields: AuditFields,
  body?: (trx: Trx) => Promise<T>,
): Promise<T> {
  const res = await writer.run(async (trx, undo) => {
    let value: T | undefined;
    let failure: unknown;
    if (body) {
      try {
        value = await body(trx);
      } catch (e) {
        // A deadlock or serialization failure is not the operation's outcome: the writer retries.
        if (isRetryable(e)) throw e;
        failure = e;
        // Nothing of the refused body stays; its event is appended after it.
        await undo();
      }
    }
    const code =
      failure === undefined ? undefined : isKmsError(failure) ? failure.code : 'INTERNAL';
    const outcome: Outcome =
      failure === undefined
        ? 'success'
        : isKmsError(failure) && failure.status < 500
          ? 'refused'
          : 'error';
    await log.append(trx, fields, outcome, code);
    return { value, failure };
  });
  if (res.failure !== undefined) throw res.failure;
  return res.value as T;
}

/** Records a refusal decided before any state was touched (auth, validation), then throws it. */
export async function auditRefusal(
  log: AuditLog,
  writer: Writer,
  fields: AuditFields,
  error: KmsError,
): Promise<never> {
  await writer.run((trx) =>
    log.append(trx, fields, error.status < 500 ? 'refused' : 'error', error.code),
  );
  throw error;
}
