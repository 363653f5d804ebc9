/**
 * A small worker_threads pool with a fixed number of slots. Requests go to the slot with the
 * fewest requests in flight (ties: round-robin). A worker that exits rejects exactly its own
 * in-flight requests, and its slot starts a fresh worker on the next request (lazily, so a worker
 * that cannot start does not spin). Idle workers are unref'd so they never keep a process alive.
 *
 * Protocol: the pool posts `{id, ...payload}`; the worker answers `{id, ok: true, value}` or
 * `{id, ok: false, error}` with `error` a message string.
 */
import { Worker } from 'node:worker_threads';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker | undefined;
  pending: Map<number, Pending>;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface PoolOptions {
  /** Number of workers, at least 1. */
  threads: number;
  /** The worker body, CommonJS source run with `eval: true`. */
  source: string;
  workerData?: unknown;
}

export class WorkerPool {
  readonly threads: number;
  private readonly slots: Slot[];
  private nextId = 1;
  private cursor = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError('threads must be a positive integer');
    }
    this.threads = options.threads;
    this.slots = Array.from({ length: options.threads }, () => ({
      worker: undefined,
      pending: new Map(),
    }));
  }

  /** Posts `payload` (transferring `transfer`) to the least busy worker and awaits its answer. */
  run<T>(payload: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const slot = this.pick();
    const worker = slot.worker ?? this.spawn(slot);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ ...payload, id }, transfer);
    });
  }

  /** Requests in flight per slot (for tests and metrics). */
  load(): number[] {
    return this.slots.map((s) => s.pending.size);
  }

  /** Terminates every worker; requests still in flight are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
  }

  private pick(): Slot {
    const n = this.slots.length;
    let best = this.cursor % n;
    for (let k = 1; k < n; k++) {
      const i = (this.cursor + k) % n;
      if (this.slots[i]!.pending.size < this.slots[best]!.pending.size) best = i;
    }
    this.cursor = (best + 1) % n;
    return this.slots[best]!;
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(this.options.source, {
      eval: true,
      workerData: this.options.workerData,
    });
    slot.worker = worker;
    let failure: Error | undefined;
    worker.on('message', (reply: Reply) => this.settle(slot, worker, reply));
    worker.on('error', (e: Error) => (failure = e));
    worker.on('exit', (code) => {
      if (slot.worker === worker) slot.worker = undefined;
      const reason = this.closed ? 'worker pool closed' : `worker exited (code ${code})`;
      const error = new Error(reason, failure === undefined ? undefined : { cause: failure });
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
    });
    worker.unref();
    return worker;
  }

  private settle(slot: Slot, worker: Worker, reply: Reply): void {
    const p = slot.pending.get(reply.id);
    if (p === undefined) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) worker.unref();
    if (reply.ok) p.resolve(reply.value);
    else p.reject(new Error(reply.error));
  }
}
