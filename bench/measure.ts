/**
 * How a throughput scenario is measured next to its baseline in the same run: both are warmed up,
 * then measured in alternating order (baseline first in even rounds, the scenario first in odd
 * ones) so drift in the machine's load hits both alike; the median round of each is reported.
 */
import { readFileSync } from 'node:fs';
import { runLoad, type LoadOptions, type LoadResult, type Target } from './load.js';
import type { Site } from './site.js';

export interface Timing {
  readonly warmSeconds: number;
  readonly seconds: number;
  readonly rounds: number;
}

export const QUICK: Timing = { warmSeconds: 0.5, seconds: 2, rounds: 1 };
export const FULL: Timing = { warmSeconds: 3, seconds: 10, rounds: 3 };

/** The connections of every throughput scenario (issue 10: "concurrency 64"). */
export const CONNECTIONS = 64;

export interface Pair {
  readonly scenario: Measured;
  readonly baseline: Measured;
  readonly ratio: number;
}

export interface Measured extends LoadResult {
  /** Server CPU per answered request, all threads and the main thread (less noisy than rates). */
  readonly cpuUsPerRequest: number;
  readonly mainCpuUsPerRequest: number;
  /** Share of the run's wall time the server's main thread was on a core (0 to 1). */
  readonly mainBusy: number;
  /** The server's main thread's time runnable but waiting for a core, per request. */
  readonly mainWaitUsPerRequest: number;
  /** Busy CPU of the whole machine (server, load generator, PostgreSQL, others) per request. */
  readonly machineCpuUsPerRequest: number;
}

/** Busy CPU seconds of the machine so far (/proc/stat: all but idle and iowait, 1/100 s). */
function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const ticks = cpu.map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return (total - ticks[3]! - ticks[4]!) / 100;
}

/** One load run with the server's CPU time over it. */
export function measure(site: Site, t: Target, o: LoadOptions): Promise<Measured> {
  return measureRun(site, () => runLoad(site.base, t, o));
}

/**
 * Any load run (closed loop, or paced as in ../paced.ts) with what the server and the machine
 * spent on it.
 */
export async function measureRun(site: Site, run: () => Promise<LoadResult>): Promise<Measured> {
  const cpu0 = site.cpuSeconds();
  const busy0 = machineBusySeconds();
  const started = performance.now();
  const r = await run();
  const cpu1 = site.cpuSeconds();
  const wall = (performance.now() - started) / 1000;
  const per = (s: number) => (r.requests ? (s * 1e6) / r.requests : NaN);
  return {
    ...r,
    cpuUsPerRequest: per(cpu1.all - cpu0.all),
    mainCpuUsPerRequest: per(cpu1.main - cpu0.main),
    mainBusy: (cpu1.main - cpu0.main) / wall,
    mainWaitUsPerRequest: per(cpu1.mainWait - cpu0.mainWait),
    machineCpuUsPerRequest: per(machineBusySeconds() - busy0),
  };
}

export async function measurePair(
  site: Site,
  scenario: Target,
  baseline: Target,
  t: Timing,
  connections = CONNECTIONS,
): Promise<Pair> {
  await runLoad(site.base, baseline, { connections, seconds: t.warmSeconds });
  await runLoad(site.base, scenario, { connections, seconds: t.warmSeconds });
  const s: Measured[] = [];
  const b: Measured[] = [];
  for (let round = 0; round < t.rounds; round++) {
    const order = round % 2 === 0 ? [baseline, scenario] : [scenario, baseline];
    for (const target of order) {
      const r = await measure(site, target, { connections, seconds: t.seconds });
      (target === scenario ? s : b).push(r);
    }
  }
  const scenarioRun = median(s);
  const baselineRun = median(b);
  return {
    scenario: scenarioRun,
    baseline: baselineRun,
    ratio: scenarioRun.rate / baselineRun.rate,
  };
}

/** The run with the median rate; failures of every round are summed into it. */
export function median<T extends LoadResult>(runs: T[]): T {
  const sorted = [...runs].sort((x, y) => x.rate - y.rate);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const failed = runs.reduce((n, r) => n + r.failed, 0);
  const firstFailure = runs.find((r) => r.firstFailure)?.firstFailure;
  return { ...mid, failed, ...(firstFailure ? { firstFailure } : {}) };
}
