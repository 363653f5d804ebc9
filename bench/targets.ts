/** The targets of issue 10, checked against one run's results (SQLite figures; PostgreSQL relative). */
import type { ScenarioResult } from './results.js';

export interface Check {
  readonly target: string;
  readonly value: string;
  readonly met: boolean;
}

const THROUGHPUT = ['validator-sign', 'bridge-sign', 'experience-encrypt', 'experience-decrypt'];

function find(rs: ScenarioResult[], name: string, store: string): ScenarioResult | undefined {
  return rs.find((r) => r.name === name && r.store === store);
}

function check(
  target: string,
  v: number | null | undefined,
  ok: (v: number) => boolean,
  digits = 2,
): Check {
  const has = typeof v === 'number' && !Number.isNaN(v);
  return { target, value: has ? v.toFixed(digits) : 'not measured', met: has && ok(v) };
}

/** A latency check's value, followed by the bare echo's at the same paced rate. */
function withBare(c: Check, bare: number | undefined): Check {
  if (bare === undefined || Number.isNaN(bare)) return c;
  return { ...c, value: `${c.value} (the bare echo at the same rate: ${bare.toFixed(2)})` };
}

/**
 * The ratio and latency targets are SQLite's; PostgreSQL is held to half of SQLite's rate for each
 * throughput scenario (checkTargets) and to the same replicate-identity and startup bounds.
 */
function sqliteChecks(rs: ScenarioResult[], store: string): Check[] {
  const out: Check[] = [];
  for (const name of ['validator-sign', 'bridge-sign'])
    out.push(check(`${store} ${name} ratio >= 0.8`, find(rs, name, store)?.ratio, (v) => v >= 0.8));
  for (const name of ['experience-encrypt', 'experience-decrypt']) {
    const r = find(rs, name, store);
    out.push(check(`${store} ${name} ratio >= 0.5 (stretch 0.7)`, r?.ratio, (v) => v >= 0.5));
    out.push(
      withBare(
        check(`${store} ${name} p50 at half rate <= 1 ms`, r?.p50Ms, (v) => v <= 1),
        r?.baselineHalfRateP50Ms,
      ),
    );
    out.push(
      withBare(
        check(`${store} ${name} p99 at half rate <= 5 ms`, r?.p99Ms, (v) => v <= 5),
        r?.baselineHalfRateP99Ms,
      ),
    );
  }
  return out;
}

function boundChecks(rs: ScenarioResult[], store: string): Check[] {
  const out: Check[] = [];
  out.push(
    check(
      `${store} replicate-identity p99 <= 50 ms`,
      find(rs, 'replicate-identity', store)?.p99Ms,
      (v) => v <= 50,
      1,
    ),
  );
  out.push(
    check(
      `${store} startup-10k-keys <= 3 s`,
      find(rs, 'startup-10k-keys', store)?.seconds,
      (v) => v <= 3,
    ),
  );
  return out;
}

export function checkTargets(rs: ScenarioResult[]): Check[] {
  const stores = [...new Set(rs.map((r) => r.store))].filter((s) => s !== 'none');
  const out = stores.flatMap((s) => [
    ...(s === 'sqlite' ? sqliteChecks(rs, s) : []),
    ...boundChecks(rs, s),
  ]);
  if (stores.includes('postgres') && stores.includes('sqlite')) {
    for (const name of THROUGHPUT) {
      const pg = find(rs, name, 'postgres')?.rate;
      const lite = find(rs, name, 'sqlite')?.rate;
      const rel = pg !== null && pg !== undefined && lite ? pg / lite : null;
      out.push(check(`postgres/sqlite ${name} rate >= 0.5`, rel, (v) => v >= 0.5));
    }
  }
  return out;
}
