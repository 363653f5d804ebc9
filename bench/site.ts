/**
 * One KMS under test: a fresh data dir (embedded SoftHSM2 token, SQLite) or a fresh PostgreSQL
 * database, a server process on 127.0.0.1 with its logs in a file, and an admin client for setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgDatabase } from '../test/support/store.js';

export type StoreKind = 'sqlite' | 'postgres';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_SERVER = path.join(ROOT, 'bench/server.ts');

export interface Site {
  readonly store: StoreKind;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly port: number;
  readonly base: string;
  adminToken(): string;
  /**
   * CPU seconds (user + system) the server process has used so far: every thread, and its main
   * thread; and the seconds its main thread has spent runnable but waiting for a core.
   */
  cpuSeconds(): { all: number; main: number; mainWait: number };
  /** Starts `entry`; resolves once `/healthz` answers (or `readyPath` when given). */
  start(entry: string, opts?: { cpuProfDir?: string }): Promise<void>;
  stop(): Promise<void>;
  call<T = unknown>(method: string, url: string, body?: unknown, token?: string): Promise<T>;
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The environment of a server process: nothing KMS-related leaks in from the caller's. */
export function serverEnv(site: Pick<Site, 'dataDir' | 'databaseUrl' | 'port'>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('KMS_') && k !== 'DATABASE_URL' && k !== 'SOFTHSM2_CONF',
    ),
  );
  return {
    ...env,
    KMS_DATA_DIR: site.dataDir,
    KMS_HOST: '127.0.0.1',
    KMS_PORT: String(site.port),
    KMS_LOG_LEVEL: 'info',
    ...(site.databaseUrl ? { DATABASE_URL: site.databaseUrl } : {}),
  };
}

export function spawnServer(
  entry: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  cpuProfDir?: string,
): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
    const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
    return spawn(process.execPath, [...prof, ...loader, entry], {
      cwd: ROOT,
      env,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
}

export async function waitFor(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of a /proc stat file (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuOf(file: string): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The time a thread has spent runnable but not running, waiting on a run queue for a core: the
 * second field of /proc/<pid>/task/<tid>/schedstat, in nanoseconds (the first is its time on a
 * core). NaN for a text that is not those counts; a kernel without the file gives NaN too
 * (`cpuSeconds`).
 */
export function runQueueSeconds(schedstat: string): number {
  const fields = schedstat.trim().split(/\s+/);
  if (fields.length < 2 || !fields.every((f) => /^\d+$/.test(f))) return NaN;
  return Number(fields[1]) / 1e9;
}

export async function openSite(store: StoreKind): Promise<Site> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `zoo-kms-bench-${store}-`));
  const pg = store === 'postgres' ? await createPgDatabase() : undefined;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const site: Site = {
    store,
    dataDir,
    databaseUrl: pg?.url ?? '',
    port,
    base,
    adminToken: () => readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim(),
    cpuSeconds: () => {
      const pid = child?.pid;
      if (pid === undefined) return { all: NaN, main: NaN, mainWait: NaN };
      const main = `/proc/${pid}/task/${pid}`;
      return {
        all: cpuOf(`/proc/${pid}/stat`),
        main: cpuOf(`${main}/stat`),
        mainWait: existsSync(`${main}/schedstat`)
          ? runQueueSeconds(readFileSync(`${main}/schedstat`, 'utf8'))
          : NaN,
      };
    },
    async start(entry, opts = {}) {
      child = spawnServer(
        entry,
        serverEnv(site),
        path.join(dataDir, 'server.log'),
        opts.cpuProfDir,
      );
      await waitFor(`${base}/healthz`, 120_000, child);
    },
    async stop() {
      await stopChild(child);
      child = undefined;
    },
    async call<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
      const res = await fetch(base + url, {
        method,
        headers: {
          authorization: `Bearer ${token ?? site.adminToken()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async dispose() {
      await site.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return site;
}
