/** The worker pool's failure handling, with small scripted workers. */
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/crypto/worker-pool.js';
import { threadNice } from '../support/nice.js';

// Echoes `value` back after `delayMs`; `crash: true` exits the worker at once.
const SCRIPT = `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.crash) process.exit(7);
  if (m.fail) return parentPort.postMessage({ id: m.id, ok: false, error: 'refused' });
  setTimeout(() => parentPort.postMessage({ id: m.id, ok: true, value: { value: m.value, threadId } }), m.delayMs ?? 0);
});
`;

type Echo = { value: number; threadId: number };

// Answers the nice value of its own thread (field 19 of /proc/thread-self/stat).
const NICE_SCRIPT = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  const stat = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8');
  const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  parentPort.postMessage({ id: m.id, ok: true, value: nice });
});
`;

describe('WorkerPool', () => {
  it('runs its worker threads at the nice value it is given, and the main thread as it was', async () => {
    const before = threadNice();
    const niced = new WorkerPool({ threads: 2, source: NICE_SCRIPT, nice: 7 });
    const plain = new WorkerPool({ threads: 1, source: NICE_SCRIPT });
    try {
      const answers = await Promise.all([1, 2].map(() => niced.run<number>({})));
      expect(answers).toEqual([7, 7]);
      expect(await plain.run<number>({})).toBe(before);
      expect(threadNice()).toBe(before);
    } finally {
      await Promise.all([niced.close(), plain.close()]);
    }
    for (const nice of [-1, 20, 1.5])
      expect(() => new WorkerPool({ threads: 1, source: NICE_SCRIPT, nice })).toThrow(RangeError);
  });

  it("a crash rejects only that worker's requests and the slot is replaced", async () => {
    const pool = new WorkerPool({ threads: 2, source: SCRIPT });
    try {
      const slow = [1, 2].map((value) => pool.run<Echo>({ value, delayMs: 200 }));
      const [a, b] = await Promise.all(slow);
      expect(a!.threadId).not.toBe(b!.threadId);
      // Three requests spread 2 + 1; the crash goes to the less busy worker, next to one of them.
      const inFlight = [3, 4, 5].map((value) => pool.run<Echo>({ value, delayMs: 300 }));
      expect([...pool.load()].sort()).toEqual([1, 2]);
      await expect(pool.run({ crash: true })).rejects.toThrow(/exited \(code 7\)/);
      const settled = await Promise.allSettled(inFlight);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
      const lost = settled.filter((s) => s.status === 'rejected');
      expect(lost).toHaveLength(1);
      expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(/exited/);
      const after = await Promise.all([5, 6].map((value) => pool.run<Echo>({ value })));
      expect(after.map((e) => e.value)).toEqual([5, 6]);
    } finally {
      await pool.close();
    }
  });

  it("a refused request rejects with the worker's message and the worker stays", async () => {
    const pool = new WorkerPool({ threads: 1, source: SCRIPT });
    try {
      await expect(pool.run({ fail: true })).rejects.toThrow('refused');
      expect((await pool.run<Echo>({ value: 1 })).value).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('dispatches to the least busy worker', async () => {
    const pool = new WorkerPool({ threads: 3, source: SCRIPT });
    try {
      const runs = [1, 2, 3, 4, 5, 6].map((value) => pool.run<Echo>({ value, delayMs: 50 }));
      expect(pool.load()).toEqual([2, 2, 2]);
      await Promise.all(runs);
      expect(pool.load()).toEqual([0, 0, 0]);
    } finally {
      await pool.close();
    }
  });

  it('close() rejects requests in flight', async () => {
    const pool = new WorkerPool({ threads: 1, source: SCRIPT });
    const pending = pool.run({ value: 1, delayMs: 10_000 });
    await pool.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(pool.run({ value: 2 })).rejects.toThrow(/closed/);
  });

  it('refuses a thread count below one', () => {
    expect(() => new WorkerPool({ threads: 0, source: SCRIPT })).toThrow(RangeError);
  });
});
