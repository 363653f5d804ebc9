/**
 * Starts a real KMS in the test process (the HTTP server through `inject`), on the store the
 * vitest project selects, with a SoftHSM2 token of the test file's own directory.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import pino from 'pino';
import { buildConfig } from '../../src/config/load.js';
import { buildApp, type AppOptions, type Kms } from '../../src/app.js';
import { capabilityRoutes } from '../../src/capabilities.js';
import type { KeyProvider } from '../../src/providers/provider.js';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { testSoftHsm } from './softhsm.js';
import { createPgDatabase, testStore, type TestStore } from './store.js';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface TestKms {
  readonly kms: Kms;
  readonly store: TestStore;
  readonly dataDir: string;
  readonly dbUrl: string;
  readonly adminToken: string;
  call<T = any>(
    method: string,
    url: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  /** Closes the app; `restart` then builds a new one on the same data dir, database and token. */
  restart(): Promise<TestKms>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly providers?: () => KeyProvider[];
  readonly tokenLabel?: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly dataDir?: string;
  readonly dbUrl?: string;
  readonly instanceId?: string;
}

export async function startKms(opts: StartOptions = {}): Promise<TestKms> {
  const store = testStore();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-data-'));
  let drop: (() => Promise<void>) | undefined;
  let dbUrl = opts.dbUrl ?? '';
  if (store === 'postgres' && !dbUrl) ({ url: dbUrl, drop } = await createPgDatabase());
  const label = opts.tokenLabel ?? 'kms-test';
  const providers =
    opts.providers ??
    (() => [new Pkcs11Provider({ ...testSoftHsm().token(label).options, name: 'softhsm2' })]);
  const env = {
    KMS_DATA_DIR: dataDir,
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    ...(opts.instanceId ? { KMS_INSTANCE_ID: opts.instanceId } : {}),
    ...opts.env,
  };
  const config = buildConfig(opts.config ?? {}, env);
  const appOpts: AppOptions = {
    providers: providers(),
    logger: opts.logger ?? pino({ level: 'silent' }),
    extend: capabilityRoutes,
    ...(opts.now ? { now: opts.now } : {}),
  };
  const kms = await buildApp(config, appOpts);
  const adminToken = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  let closed = false;
  const self: TestKms = {
    kms,
    store,
    dataDir,
    dbUrl,
    adminToken,
    async call(method, url, o = {}) {
      const token = o.token === undefined ? adminToken : o.token;
      const res = await kms.app.inject({
        method: method as 'GET',
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers },
        ...(o.body !== undefined ? { payload: o.body as object } : {}),
      });
      let body: unknown = res.body;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        // not JSON (metrics): keep the text
      }
      return { status: res.statusCode, body: body as never, headers: res.headers };
    },
    async restart() {
      closed = true;
      await kms.close();
      return startKms({ ...opts, dataDir, dbUrl });
    },
    async close() {
      if (!closed) await kms.close();
      closed = true;
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      await drop?.();
    },
  };
  return self;
}

/** Creates a principal with a token; returns the token. */
export async function principalToken(
  t: TestKms,
  name: string,
  role: string,
  scopes: string[] = [],
): Promise<string> {
  const p = await t.call('POST', '/v1/principals', { body: { name, role, scopes } });
  if (p.status !== 201) throw new Error(`principal ${name}: ${p.status} ${JSON.stringify(p.body)}`);
  const tok = await t.call('POST', `/v1/principals/${name}/tokens`, { body: {} });
  if (tok.status !== 201)
    throw new Error(`token ${name}: ${tok.status} ${JSON.stringify(tok.body)}`);
  return tok.body.token as string;
}
