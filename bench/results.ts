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
  readonly saturatedP50Ms?: number | null;
  readonly saturatedP99Ms?: number | null;
  /** startup-10k-keys: keys in the store when it started. */
  readonly keys?: number;
  /** Requests that were not 2xx, socket errors and timeouts (must be 0). */
  readonly failed?: number;
  readonly firstFailure?: string;
  readonly note?: string;
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
