/**
 * SQLite WAL checkpoints on a connection of their own, in a worker thread. Left to the writing
 * connection, a checkpoint runs inside whichever COMMIT crosses the WAL threshold: it copies up to
 * a thousand pages into the database file and fsyncs it, 5 to 20 ms during which the event loop is
 * blocked (docs/performance.md). Here a PASSIVE checkpoint (it never blocks the writer, and the
 * writer never waits for it) runs every `intervalMs`, so the WAL is copied back while requests go
 * on, and restarts from its beginning at the next write. The writing connection keeps a far
 * higher automatic threshold as a safety net, should this thread fall behind or stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The writing connection's own threshold (pages): reached only if the worker falls behind. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

// CommonJS run by `new Worker(..., {eval: true})`: no build step, the same under vitest and from
// dist/. A failed checkpoint (a full disk, a lock) is tried again at the next tick.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // next tick
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker and closes its connection (before the writing connection closes). */
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 50): Checkpointer {
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      intervalMs,
    },
  });
  // Never what keeps a process alive; a worker that fails leaves the safety net in place.
  worker.unref();
  worker.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
