/**
 * A small worker_threads pool with a fixed number of slots. Requests go to the slot with the
 * fewest requests in flight (ties: round-robin). A worker that exits rejects exactly its own
 * in-flight requests, and its slot starts a fresh worker on the next request (lazily, so a worker
 * that cannot start does not spin). Idle workers are unref'd so they never keep a process alive.
 *
 * Protocol: the pool posts `{id, ...payload}`; the worker answers `{id, ok: true, value}` or
 * `{id, ok: false, error}` with `error` a message string.
 *
 * `nice` lowers the workers' scheduling priority (Linux: each worker thread renices itself when it
 * starts; elsewhere nothing happens). The pools here run CPU-bound crypto (BLS signing, age
 * encryption) on as many threads as there are cores, next to the main thread, whose event loop is
 * the one serial path of every request: accepting it, the store's commit, the answer. With equal
 * priority the kernel shares a core between the loop and a worker, and the loop, with requests
 * queued behind it, runs at half speed; niced workers take the CPU the loop leaves (nothing is
 * starved: a niced thread still gets a share under contention, and all of an idle core).
 * Measured in docs/performance.md.
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
  /** Nice value of the worker threads, 0 (the default: the process's own) to 19. */
  nice?: number;
}

/** The workers' default nice value: below the event loop, far from idle-only (19). */
export const WORKER_NICE = 10;

/**
 * Prepended to a worker's source: sets the nice value of its own thread. On Linux
 * `setpriority(PRIO_PROCESS, tid)` takes a thread id and changes that thread alone; the id is
 * read from /proc/thread-self. Raising one's own nice value needs no privilege; anywhere it fails
 * (another OS, no /proc) the worker runs at the process's priority.
 */
function renice(nice: number): string {
  return `try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) require('node:os').setPriority(tid, ${nice});
} catch {}
`;
}

export class WorkerPool {
  readonly threads: number;
  private readonly source: string;
  private readonly slots: Slot[];
  private nextId = 1;
  private cursor = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError('threads must be a positive integer');
    }
    const nice = options.nice ?? 0;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
      throw new RangeError('nice must be an integer from 0 to 19');
    }
    this.source = nice > 0 ? renice(nice) + options.source : options.source;
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
    const worker = new Worker(this.source, {
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
