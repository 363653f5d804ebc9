/**
 * `experience-encrypt` and `experience-decrypt` (issue 10, scenario 3): 1 KiB plaintexts for 256
 * users, each next to a bare route echoing the same JSON bodies; then the latency at half the
 * maximum rate just measured (open loop at an even pace, ../paced.ts), and the bare echo's at the
 * same paced rate.
 */
import { randomBytes } from 'node:crypto';
import type { Site } from '../site.js';
import type { Target } from '../load.js';
import { runPaced } from '../paced.js';
import { measurePair, measureRun, type Timing } from '../measure.js';
import { inParallel, principalToken } from '../provision.js';
import { BARE } from '../bare-routes.js';
import type { MainThreadLoad, ScenarioResult } from '../results.js';
import { pairResult } from './signing.js';

const USERS = 256;
const HALF_RATE_CONNECTIONS = 64;

const userId = (i: number) => `did:lux:122:bench-user-${i}`;

/** The same bodies over and over, in order, to `path`. */
function cycling(path: string, bodies: readonly string[], token?: string): Target {
  let n = 0;
  return {
    ...(token ? { token } : {}),
    next: () => ({ path, body: bodies[n++ % bodies.length]! }),
  };
}

async function halfRate(
  site: Site,
  target: Target,
  maxRate: number,
  t: Timing,
): Promise<{ p50Ms: number; p99Ms: number; rate: number; failed: number; main: MainThreadLoad }> {
  // The paced load first runs unmeasured for a while: right after the saturated runs the store is
  // still catching up (a WAL grown under saturation is checkpointed, the OS writes back), and that
  // recovery is not the latency at half rate.
  await runPaced(site.base, target, {
    connections: HALF_RATE_CONNECTIONS,
    seconds: Math.max(1, 2 * t.warmSeconds),
    rate: maxRate / 2,
  });
  const r = await measureRun(site, () =>
    runPaced(site.base, target, {
      connections: HALF_RATE_CONNECTIONS,
      seconds: t.seconds,
      rate: maxRate / 2,
    }),
  );
  const main = {
    busy: r.mainBusy,
    cpuUsPerRequest: r.mainCpuUsPerRequest,
    waitUsPerRequest: r.mainWaitUsPerRequest,
  };
  return { p50Ms: r.p50Ms, p99Ms: r.p99Ms, rate: r.rate, failed: r.failed, main };
}

export async function experience(site: Site, t: Timing): Promise<ScenarioResult[]> {
  const token = await principalToken(site, 'bench-experience', 'experience', []);
  const plaintext = randomBytes(1024).toString('base64');
  const encBodies = Array.from({ length: USERS }, (_, i) =>
    JSON.stringify({ userId: userId(i), plaintext }),
  );
  const decBodies: string[] = new Array<string>(USERS);
  await inParallel(USERS, 16, async (i) => {
    const out = await site.call<{ ciphertext: string }>(
      'POST',
      '/v1/experience/encrypt',
      { userId: userId(i), plaintext },
      token,
    );
    decBodies[i] = JSON.stringify({ userId: userId(i), ciphertext: out.ciphertext });
  });
  const results: ScenarioResult[] = [];
  for (const [name, path, bodies] of [
    ['experience-encrypt', '/v1/experience/encrypt', encBodies],
    ['experience-decrypt', '/v1/experience/decrypt', decBodies],
  ] as const) {
    const scenario = cycling(path, bodies, token);
    const baseline = cycling(BARE.echo, bodies);
    const pair = pairResult(name, site, await measurePair(site, scenario, baseline, t));
    const half = await halfRate(site, scenario, pair.rate!, t);
    // The bare echo at the very same paced rate: what the machine, the load generator and
    // Fastify give a route that does nothing, the floor under the scenario's latency.
    const bareHalf = await halfRate(site, baseline, pair.rate!, t);
    // p50Ms/p99Ms are the latency the target names: at half the maximum rate.
    results.push({
      ...pair,
      p50Ms: half.p50Ms,
      p99Ms: half.p99Ms,
      halfRate: half.rate,
      baselineHalfRateP50Ms: bareHalf.p50Ms,
      baselineHalfRateP99Ms: bareHalf.p99Ms,
      halfRateMain: half.main,
      baselineHalfRateMain: bareHalf.main,
      saturatedP50Ms: pair.p50Ms,
      saturatedP99Ms: pair.p99Ms,
      ...(half.failed + bareHalf.failed
        ? { failed: (pair.failed ?? 0) + half.failed + bareHalf.failed }
        : {}),
    });
  }
  return results;
}
