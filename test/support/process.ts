/**
 * Runs the KMS as a real process (`node --import tsx src/main.ts`), for tests that need several
 * instances on one PostgreSQL or that kill the process. Every instance of a test file shares the
 * file's SoftHSM2 token (SOFTHSM2_CONF), as several instances share one HSM in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { testSoftHsm } from './softhsm.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface KmsProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process printed (JSON log lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** Reuse a data dir (restarts); default a new temp dir. */
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  readonly tokenLabel?: string;
  /** Extra YAML config (merged over the provider block). */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly instanceId?: string;
}

export async function spawnKms(opts: SpawnOptions = {}): Promise<KmsProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-proc-'));
  const token = testSoftHsm().token(opts.tokenLabel ?? 'kms-proc');
  const configFile = path.join(dataDir, 'kms.yaml');
  const config = {
    kms: {
      provider: 'softhsm2',
      softhsm2: { library: token.library, token_label: token.tokenLabel, pin_file: token.pinFile },
    },
    ...opts.config,
  };
  writeFileSync(configFile, stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      SOFTHSM2_CONF: token.confPath,
      KMS_CONFIG: configFile,
      KMS_DATA_DIR: dataDir,
      KMS_PORT: '0',
      KMS_LOG_LEVEL: 'info',
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...(opts.instanceId ? { KMS_INSTANCE_ID: opts.instanceId } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`KMS did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /"address":"(http[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`KMS exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    dataDir,
    child,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The bootstrap admin token of a data dir (written on first start). */
export function adminTokenOf(dataDir: string): string {
  const file = path.join(dataDir, 'admin.token');
  if (!existsSync(file))
    throw new Error(`${file} does not exist (only the first instance on an empty store writes it)`);
  return readFileSync(file, 'utf8').trim();
}

/** fetch() with a bearer token and JSON in and out. */
export async function request(
  url: string,
  method: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed };
}
