/**
 * A private PostgreSQL cluster for fault tests: its own data directory, port and socket directory,
 * so a test may stop and restart it (or fill its disk) without touching the shared server on 5432.
 * initdb and postgres refuse to run as root, so as root every command runs as the `postgres` user
 * (runuser) and the directories are handed to it.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PgCluster {
  readonly port: number;
  /** The data directory (PGDATA). */
  readonly dir: string;
  /** The server log, for failure messages. */
  readonly logFile: string;
  url(database?: string): string;
  /** `pg_ctl stop -m fast|immediate`: immediate is a crash (no checkpoint, recovery at start). */
  stop(mode: 'fast' | 'immediate'): void;
  start(): void;
  createDatabase(name: string): string;
  destroy(): void;
}

function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const dir = path.join(root, v, 'bin');
    if (existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  return '/usr/local/bin';
}

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]): string {
  const exe = path.join(binDir(), bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A port the kernel just handed out (free unless another process races for it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * initdb and start a cluster. `dir` may be given (for example a directory on a small tmpfs);
 * it must be empty or absent.
 */
export async function startPgCluster(opts: { dir?: string } = {}): Promise<PgCluster> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-pg-'));
  const dir = opts.dir ?? path.join(home, 'data');
  const logFile = path.join(home, 'server.log');
  if (asRoot) chownSync(home, uidOf('postgres'), gidOf('postgres'));
  if (asRoot && opts.dir && existsSync(dir)) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  run('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    `-k ${home}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=60',
    '-c shared_buffers=16MB',
  ].join(' ');
  const cluster: PgCluster = {
    port,
    dir,
    logFile,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop(mode) {
      run('pg_ctl', ['stop', '-D', dir, '-m', mode, '-w', '-t', '60']);
    },
    start() {
      run('pg_ctl', ['start', '-D', dir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions]);
    },
    createDatabase(name) {
      run('psql', [
        '-h',
        home,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-c',
        `create database ${name}`,
      ]);
      return cluster.url(name);
    },
    destroy() {
      try {
        run('pg_ctl', ['stop', '-D', dir, '-m', 'immediate', '-w', '-t', '60']);
      } catch {
        // already stopped
      }
      rmSync(home, { recursive: true, force: true });
      if (opts.dir && existsSync(dir))
        for (const f of readdirSync(dir))
          rmSync(path.join(dir, f), { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
