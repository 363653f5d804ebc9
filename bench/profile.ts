/**
 * `npx tsx bench/profile.ts [--store sqlite|postgres] [--n 4000] [--rounds 3] [path...]`: where the main thread's
 * time goes on one request path, without HTTP or a load generator in the way. A KMS is built in
 * this process (fresh data dir, embedded SoftHSM2 token), requests go through Fastify's `inject`
 * 64 at a time, and for each path the main thread's CPU per request is printed next to its bare
 * baseline, with a V8 profile of the measured phase only (bench-profiles/<path>.cpuprofile).
 * Paths: validator, bridge, experience-encrypt, experience-decrypt, replicate.
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp, type Kms } from '../src/app.js';
import { buildConfig } from '../src/config/load.js';
import { createLogger } from '../src/logger.js';
import { capabilityRoutes } from '../src/capabilities.js';
import { createPgDatabase } from '../test/support/store.js';
import { bareRoutes } from './bare-routes.js';
import { summarize, type Profile } from './profile-summary.js';
import { PATHS, type ProfiledPath } from './profile-paths.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    store: { type: 'string', default: 'sqlite' },
    n: { type: 'string', default: '4000' },
    top: { type: 'string', default: '25' },
    rounds: { type: 'string', default: '3' },
  },
});

/** utime + stime of this process's main thread, in microseconds (clock ticks of 10 ms). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/** Sends `n` requests from `next`, 64 in flight; throws on any answer that is not 2xx. */
async function drive(kms: Kms, next: ProfiledPath['next'], n: number): Promise<void> {
  let sent = 0;
  const lane = async (lane: number) => {
    while (sent < n) {
      sent += 1;
      const r = next(lane);
      const res = await kms.app.inject({
        method: 'POST',
        url: r.url,
        headers: {
          'content-type': 'application/json',
          ...(r.token ? { authorization: `Bearer ${r.token}` } : {}),
        },
        payload: r.body,
      });
      if (res.statusCode >= 300) throw new Error(`${r.url}: ${res.statusCode} ${res.body}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, i) => lane(i)));
}

/**
 * Main-thread CPU per request over `n` requests (after a warm-up), without the profiler: the
 * least of `rounds` rounds, as other work on the machine only ever adds to it.
 */
async function cpuPerRequest(kms: Kms, p: ProfiledPath, n: number, rounds: number) {
  await drive(kms, p.next, Math.min(n, 500));
  let least = Infinity;
  for (let r = 0; r < rounds; r++) {
    const cpu0 = mainThreadCpuUs();
    await drive(kms, p.next, n);
    least = Math.min(least, (mainThreadCpuUs() - cpu0) / n);
  }
  return least;
}

/** A V8 profile of `n` more requests (sampling every 100 us, which slows them down). */
async function profiled(kms: Kms, p: ProfiledPath, n: number, session: Session): Promise<Profile> {
  await session.post('Profiler.start');
  await drive(kms, p.next, n);
  return (await session.post('Profiler.stop')).profile as Profile;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-profile-'));
  const pg = values.store === 'postgres' ? await createPgDatabase() : undefined;
  const env = { KMS_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) };
  const kms = await buildApp(buildConfig({}, env), {
    // As in production: info, written synchronously (to /dev/null here, not to this terminal).
    logger: createLogger('info', pino.destination({ dest: '/dev/null', sync: true })),
    extend: async (s) => [...(await capabilityRoutes(s)), bareRoutes(s)],
  });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  mkdirSync('bench-profiles', { recursive: true });
  try {
    const admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    for (const name of positionals.length ? positionals : Object.keys(PATHS)) {
      const make = PATHS[name];
      if (!make) throw new Error(`unknown path ${name}; known: ${Object.keys(PATHS).join(', ')}`);
      const { path: p, baseline } = await make(kms, admin);
      const n = Number(values.n);
      const rounds = Number(values.rounds);
      const base = await cpuPerRequest(kms, baseline, n, rounds);
      const real = await cpuPerRequest(kms, p, n, rounds);
      const prof = await profiled(kms, p, n, session);
      const file = path.join('bench-profiles', `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(prof));
      process.stdout.write(
        `\n== ${name} (${values.store}): main thread ${real.toFixed(0)} us/request, ` +
          `bare baseline ${base.toFixed(0)} us/request; profile ${file}\n`,
      );
      process.stdout.write(summarize(prof, Number(values.top)));
    }
  } finally {
    session.disconnect();
    await kms.close();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
