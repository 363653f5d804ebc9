/**
 * `startup-10k-keys` (issue 10, scenario 5): with the bench server stopped, the store is filled up
 * to 10,000 keys through the service layer (bench/fill-keys.ts), then the production entry
 * (src/main.ts, compiled as `npm start` runs it: ../compile.ts) is started: the figure is the
 * seconds from spawning the process to the first 200 from `/readyz`.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, serverEnv, spawnServer, stopChild, waitFor, type Site } from '../site.js';
import { emptyResult, type ScenarioResult } from '../results.js';

export const STARTUP_KEYS = 10_000;

/** Fills the stopped site's store; returns the number of keys it then holds. */
export async function fillKeys(site: Site, total = STARTUP_KEYS): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/fill-keys.ts'), String(total)],
    { cwd: ROOT, env: serverEnv(site), maxBuffer: 1 << 20 },
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { keys: number }).keys;
}

/** Starts the compiled main.js on the site's store (the bench server must be stopped). */
export async function timeStartup(site: Site, main: string): Promise<number> {
  const t0 = performance.now();
  const child = spawnServer(main, serverEnv(site), path.join(site.dataDir, 'startup.log'));
  try {
    await waitFor(`${site.base}/readyz`, 120_000, child);
    return (performance.now() - t0) / 1000;
  } finally {
    await stopChild(child);
  }
}

export async function startup(site: Site, main: string, keys: number): Promise<ScenarioResult> {
  const seconds = await timeStartup(site, main);
  return { ...emptyResult('startup-10k-keys', site.store), seconds, keys };
}
