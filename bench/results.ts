/** bench-results.json (the shape of issue 10) and the printed table. */
import { writeFileSync } from 'node:fs';
import os from 'node:os';

export interface ScenarioResult {
  readonly name: string;
  readonly store: 'sqlite' | 'postgres' | 'none';
  readonly rate: number | null;
  readonly baselineRate: number | null;
  readonly ratio: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly seconds: number | null;
  readonly baselineP50Ms?: number;
  readonly baselineP99Ms?: number;
  /** Server CPU time (every thread) per answered request, in microseconds. */
  readonly cpuUsPerRequest?: number;
  readonly baselineCpuUsPerRequest?: number;
  /** The same, main thread only (HTTP, auth, store, audit; BLS signing runs on workers). */
  readonly mainCpuUsPerRequest?: number;
  readonly baselineMainCpuUsPerRequest?: number;
  /**
   * The main thread's time runnable but waiting for a core (the machine's two cores are shared),
   * per request.
   */
  readonly mainWaitUsPerRequest?: number;
  readonly baselineMainWaitUsPerRequest?: number;
  /** Busy CPU of the whole machine per request: the server, the load generator and PostgreSQL. */
  readonly machineCpuUsPerRequest?: number;
  readonly baselineMachineCpuUsPerRequest?: number;
  /**
   * Experience: p50Ms/p99Ms are measured at half the maximum rate (`halfRate`, what was actually
   * served); these are the latencies at the maximum rate.
   */
  readonly halfRate?: number;
  /** Experience: the bare echo route's latency at the same paced rate (`halfRate`'s target rate). */
  readonly baselineHalfRateP50Ms?: number;
  readonly baselineHalfRateP99Ms?: number;
  /** Experience: the server's main thread during the paced run, for the route and the bare echo. */
  readonly halfRateMain?: MainThreadLoad;
  readonly baselineHalfRateMain?: MainThreadLoad;
  readonly saturatedP50Ms?: number | null;
  readonly saturatedP99Ms?: number | null;
  /** startup-10k-keys: keys in the store when it started. */
  readonly keys?: number;
  /** Requests that were not 2xx, socket errors and timeouts (must be 0). */
  readonly failed?: number;
  readonly firstFailure?: string;
  readonly note?: string;
}

/** What the server's main thread did during a run. */
export interface MainThreadLoad {
  /** Share of the run's wall time the main thread was on a core (0 to 1). */
  readonly busy: number;
  readonly cpuUsPerRequest: number;
  /** Time it was runnable but waiting for a core, per request. */
  readonly waitUsPerRequest: number;
}

export function emptyResult(name: string, store: ScenarioResult['store']): ScenarioResult {
  return {
    name,
    store,
    rate: null,
    baselineRate: null,
    ratio: null,
    p50Ms: null,
    p99Ms: null,
    seconds: null,
  };
}

export function writeResults(file: string, scenarios: ScenarioResult[], mode: string): void {
  const doc = {
    mode,
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverage: os.loadavg(),
    scenarios,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
}

const fmt = (v: number | null, digits = 0) =>
  v === null || Number.isNaN(v) ? '' : v.toFixed(digits);

export function table(scenarios: ScenarioResult[]): string {
  const head = [
    'scenario',
    'store',
    'rate/s',
    'baseline/s',
    'ratio',
    'p50 ms',
    'p99 ms',
    's',
    'server us/req',
    'main us/req',
    'main wait us/req',
    'machine us/req',
    'failed',
  ];
  const rows = scenarios.map((s) => [
    s.name,
    s.store,
    fmt(s.rate),
    fmt(s.baselineRate),
    fmt(s.ratio, 2),
    fmt(s.p50Ms, 2),
    fmt(s.p99Ms, 2),
    fmt(s.seconds, 2),
    s.cpuUsPerRequest === undefined
      ? ''
      : `${fmt(s.cpuUsPerRequest)}/${fmt(s.baselineCpuUsPerRequest ?? null)}`,
    s.mainCpuUsPerRequest === undefined
      ? ''
      : `${fmt(s.mainCpuUsPerRequest)}/${fmt(s.baselineMainCpuUsPerRequest ?? null)}`,
    s.mainWaitUsPerRequest === undefined
      ? ''
      : `${fmt(s.mainWaitUsPerRequest)}/${fmt(s.baselineMainWaitUsPerRequest ?? null)}`,
    s.machineCpuUsPerRequest === undefined
      ? ''
      : `${fmt(s.machineCpuUsPerRequest)}/${fmt(s.baselineMachineCpuUsPerRequest ?? null)}`,
    s.failed ? String(s.failed) : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * One line per experience scenario: what the main thread did at half the maximum rate, the route
 * beside the bare echo (the latency targets are set there, and the main thread is their bound).
 */
export function halfRateLines(scenarios: ScenarioResult[]): string[] {
  const load = (m: MainThreadLoad) =>
    `main thread on a core ${(m.busy * 100).toFixed(0)}% of the time, ` +
    `${fmt(m.cpuUsPerRequest)} us per request, ${fmt(m.waitUsPerRequest)} us waiting for a core`;
  return scenarios
    .filter((s) => s.halfRateMain && s.baselineHalfRateMain)
    .map(
      (s) =>
        `${s.store} ${s.name} at ${fmt(s.halfRate ?? null)}/s: ${load(s.halfRateMain!)}; ` +
        `the bare echo: ${load(s.baselineHalfRateMain!)}`,
    );
}
