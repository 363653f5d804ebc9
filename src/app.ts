/**
 * The one composition root (ARCHITECTURE.md "Layers"): builds the store, providers, keyring, audit
 * log and services from the frozen config, runs start-up work under the store lock, and returns
 * the HTTP server. Nothing else reaches for globals.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { sql } from 'kysely';
import type { Config } from './config/config.js';
import { openStore, pingStore, type Store } from './store/database.js';
import { Writer } from './store/writer.js';
import { Invalidations } from './store/invalidation.js';
import { AuditLog, audited } from './audit/log.js';
import { Keyring } from './keyring/keyring.js';
import type { KeyRecord } from './keyring/record.js';
import { listKeyNames } from './keyring/repository.js';
import { publicKeyOf } from './keyring/material.js';
import { createBlsEngine, type BlsEngine } from './crypto/bls/engine.js';
import type { KeyProvider } from './providers/provider.js';
import { ProviderSet } from './providers/set.js';
import { createProvider } from './providers/factory.js';
import { AuthService } from './services/auth.js';
import { KeysService } from './services/keys.js';
import { SigningService } from './services/signing.js';
import { AuditQuery } from './services/audit-query.js';
import type { ServiceDeps } from './services/context.js';
import { bootstrap } from './services/bootstrap.js';
import { jwksOf } from './services/jwks.js';
import { Metrics } from './http/metrics.js';
import { createHttpServer, type RouteModule } from './http/server.js';
import { callerOf } from './http/auth.js';
import { createLogger } from './logger.js';

export interface Services {
  readonly config: Config;
  readonly deps: ServiceDeps;
  readonly auth: AuthService;
  readonly keys: KeysService;
  readonly signing: SigningService;
  readonly auditQuery: AuditQuery;
  readonly keyring: Keyring;
  readonly providers: ProviderSet;
  readonly metrics: Metrics;
  keyNames(): Promise<string[]>;
  /** "device" or "software, wrapped by the device" (ARCHITECTURE.md item 3). */
  protection(key: KeyRecord): string;
  auditAdmin(req: FastifyRequest, action: string, details: Record<string, string>): Promise<void>;
  auditEarlyRefusal(req: FastifyRequest, keyName: string, status: number): Promise<void>;
  ready(): Promise<{
    status: 'ready' | 'not_ready';
    checks: { name: string; status: 'pass' | 'fail'; latencyMs: number; error?: string }[];
  }>;
  jwks(): Promise<unknown[]>;
}

export interface AppOptions {
  /** Providers built by the caller (tests); default: from config. */
  readonly providers?: KeyProvider[];
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Routes of capabilities wired by `extend`. */
  readonly extend?: (services: Services) => Promise<RouteModule[]> | RouteModule[];
}

export interface Kms {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly instanceId: string;
  /** Written on first start only: the path of the bootstrap admin token. */
  readonly adminTokenPath: string | undefined;
  close(): Promise<void>;
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<Kms> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const logger = opts.logger ?? createLogger(config.server.logLevel);
  const now = opts.now ?? Date.now;
  const instanceId = config.instanceId ?? persistentInstanceId(config.dataDir);
  const store = await openStore({
    url: config.storeUrl,
    sqlitePath: path.join(config.dataDir, 'kms.sqlite'),
  });
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    const providers = await openProviders(config, store, opts.providers, logger);
    cleanup.unshift(() => providers.close());
    const bls = createBlsEngine();
    cleanup.unshift(() => bls.close());
    const kms = await assemble(
      config,
      store,
      providers,
      bls,
      instanceId,
      logger,
      now,
      cleanup,
      opts,
    );
    return kms;
  } catch (e) {
    for (const c of cleanup) await c();
    throw e;
  }
}

async function assemble(
  config: Config,
  store: Store,
  providers: ProviderSet,
  bls: BlsEngine,
  instanceId: string,
  logger: Logger,
  now: () => number,
  cleanup: (() => Promise<void> | void)[],
  opts: AppOptions,
): Promise<Kms> {
  const writer = new Writer(store.db);
  const invalidations = new Invalidations(store.db, writer);
  const audit = new AuditLog({
    db: store.db,
    writer,
    instance: instanceId,
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalMs,
    now,
    onError: (e) => logger.error({ err: e }, 'audit checkpoint failed'),
  });
  await audit.init();
  const keyring = new Keyring({
    db: store.db,
    providers,
    invalidations,
    publicKeyOf: (alg, secret) => publicKeyOf(alg, secret, bls),
  });
  const deps: ServiceDeps = {
    config,
    db: store.db,
    engine: store.engine,
    lock: store.lock,
    writer,
    invalidations,
    audit,
    keyring,
    bls,
    now,
  };
  cleanup.unshift(async () => {
    invalidations.stop();
    await audit.close();
    await writer.close();
    keyring.close();
  });
  const services = makeServices(config, deps, providers, audit, writer);
  const adminTokenPath = await bootstrap(services, logger);
  audit.setSigner(await services.auditQuery.signer());
  await invalidations.start();
  providers.start();
  const extra = opts.extend ? await opts.extend(services) : [];
  const app = await createHttpServer(config, services, logger, extra);
  return {
    app,
    services,
    instanceId,
    adminTokenPath,
    close: async () => {
      await app.close();
      for (const c of cleanup) await c();
    },
  };
}

function makeServices(
  config: Config,
  deps: ServiceDeps,
  providers: ProviderSet,
  audit: AuditLog,
  writer: Writer,
): Services {
  const auth = new AuthService({
    db: deps.db,
    writer,
    invalidations: deps.invalidations,
    tokenTtlSeconds: config.auth.tokenTtlSeconds,
    now: deps.now,
  });
  const keys = new KeysService(deps);
  const signing = new SigningService(deps, keys);
  const auditQuery = new AuditQuery(deps);
  const services: Services = {
    config,
    deps,
    auth,
    keys,
    signing,
    auditQuery,
    keyring: deps.keyring,
    providers,
    metrics: new Metrics({
      providers: () => providers.status(),
      auditLength: async () =>
        Number(
          (await sql<{ n: number }>`select count(*) as n from audit_events`.execute(deps.db))
            .rows[0]?.n ?? 0,
        ),
      keyCounts: async () =>
        (
          await deps.db
            .selectFrom('keys')
            .select(['algorithm', (eb) => eb.fn.countAll<number>().as('count')])
            .groupBy('algorithm')
            .execute()
        ).map((r) => ({
          algorithm: r.algorithm,
          count: Number(r.count),
        })),
    }),
    keyNames: () => listKeyNames(deps.db),
    protection: (key) => protectionOf(key, providers),
    auditAdmin: async (req, action, details) => {
      const caller = callerOf(req);
      await audited(audit, writer, {
        action,
        principal: caller.principal.name,
        requestId: caller.requestId,
        details,
      });
    },
    auditEarlyRefusal: async (req, keyName, status) => {
      const code =
        status === 403 ? 'FORBIDDEN' : status === 429 ? 'RATE_LIMITED' : 'INVALID_REQUEST';
      await writer.run((trx) =>
        audit.append(
          trx,
          {
            action: `request ${req.method} ${req.routeOptions.url ?? ''}`,
            principal: req.principal?.name ?? null,
            keyName: keyName.slice(0, 128),
            requestId: req.id,
          },
          'refused',
          code,
        ),
      );
    },
    ready: () => readiness(deps, providers),
    jwks: () => jwksOf(deps),
  };
  return services;
}

function protectionOf(key: KeyRecord, providers: ProviderSet): string {
  const alg = key.algorithm;
  const inDevice = providers.providers.some((p) =>
    alg === 'hmac-sha256'
      ? p.capabilities.hmac !== null
      : alg === 'aes-256-gcm'
        ? p.capabilities.aesGcm
        : (p.capabilities.sign as readonly string[]).includes(alg),
  );
  return inDevice && providers.providers.every((p) => p.kind !== 'software')
    ? 'device'
    : 'software, wrapped by the device';
}

async function readiness(deps: ServiceDeps, providers: ProviderSet) {
  const checks: { name: string; status: 'pass' | 'fail'; latencyMs: number; error?: string }[] = [];
  const timed = async (name: string, fn: () => Promise<void>) => {
    const t = performance.now();
    try {
      await fn();
      checks.push({ name, status: 'pass', latencyMs: round(performance.now() - t) });
    } catch (e) {
      checks.push({
        name,
        status: 'fail',
        latencyMs: round(performance.now() - t),
        error: (e as Error).message,
      });
    }
  };
  await timed('store', () => pingStore({ db: deps.db } as Store));
  await providers.checkAll(true);
  for (const p of providers.status()) {
    checks.push({
      name: `provider:${p.name}`,
      status: p.healthy ? 'pass' : 'fail',
      latencyMs: p.latencyMs ?? 0,
      ...(p.error ? { error: p.error } : {}),
    });
  }
  const ok = checks[0]?.status === 'pass' && providers.serving().length > 0;
  return { status: ok ? ('ready' as const) : ('not_ready' as const), checks };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Opens every provider under the store lock (root keys are made once); at least one must open. */
async function openProviders(
  config: Config,
  store: Store,
  given: KeyProvider[] | undefined,
  logger: Logger,
): Promise<ProviderSet> {
  const providers =
    given ?? (await Promise.all(config.providers.map((p) => createProvider(p, config))));
  const set = new ProviderSet(providers, {
    healthCheckIntervalMs: config.failover.healthCheckIntervalMs,
    failover: config.failover.enabled,
    reopen: (p) => store.lock.withLock('providers', () => p.open()),
    onChange: (name, healthy, error) =>
      logger.warn(
        { provider: name, healthy, error },
        `provider ${name} is ${healthy ? 'healthy again' : 'unavailable'}`,
      ),
  });
  const failures: string[] = [];
  await store.lock.withLock('providers', async () => {
    for (const p of providers) {
      try {
        await p.open();
      } catch (e) {
        failures.push(`${p.name}: ${(e as Error).message}`);
        set.markUnopened(p.name, (e as Error).message);
      }
    }
  });
  if (failures.length === providers.length) {
    await set.close();
    throw new Error(`no key provider could be opened: ${failures.join('; ')}`);
  }
  for (const f of failures) logger.error(`provider ${f}`);
  return set;
}

function persistentInstanceId(dataDir: string): string {
  const file = path.join(dataDir, 'instance-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = `kms-${randomBytes(6).toString('hex')}`;
  writeFileSync(file, id + '\n', { mode: 0o600 });
  return id;
}

export { pino };
