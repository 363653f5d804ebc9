/**
 * Loads the configuration once: YAML file (`KMS_CONFIG`), then environment overrides, then the
 * embedded defaults (SoftHSM2 token in the data dir, SQLite, 127.0.0.1:8200). Any unknown key or bad
 * value throws a `ConfigError` naming its path; `main` prints it and exits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Value } from 'typebox/value';
import { ConfigFileSchema, PKCS11_TYPES, type ConfigFile, type ProviderType } from './schema.js';
import { ConfigError, type ChainProfile, type Config, type ProviderConfig } from './config.js';
import { DAY_MS, durationMs, ratePerSecond, sizeBytes, within } from './units.js';
import { BLS_TAGS, resolveTag } from '../crypto/bls/tags.js';
import { buildProviders } from './providers.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads `KMS_CONFIG` (if set) and builds the frozen config. */
export function loadConfig(env: Env = process.env): Config {
  const file = env.KMS_CONFIG;
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`);
    }
  }
  return buildConfig(raw, env);
}

/** Validates a parsed YAML document and applies overrides and defaults. */
export function buildConfig(raw: unknown, env: Env = {}): Config {
  checkShape(raw);
  const file = raw as ConfigFile;
  const dataDir = path.resolve(env.KMS_DATA_DIR ?? './data');
  const logLevel = env.KMS_LOG_LEVEL ?? file.server?.log_level ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(
      `KMS_LOG_LEVEL: must be one of trace, debug, info, warn, error (got ${logLevel})`,
    );
  }
  const config: Config = {
    dataDir,
    instanceId: instanceId(env.KMS_INSTANCE_ID),
    production: env.NODE_ENV === 'production',
    server: {
      host: env.KMS_HOST ?? file.server?.host ?? '127.0.0.1',
      port: port(env.KMS_PORT, file.server?.port ?? 8200),
      bodyLimit: sizeBytes(file.server?.body_limit ?? '2MiB'),
      logLevel: logLevel as Config['server']['logLevel'],
      tls: file.server?.tls && {
        certFile: file.server.tls.cert_file,
        keyFile: file.server.tls.key_file,
        ...(file.server.tls.client_ca_file ? { clientCaFile: file.server.tls.client_ca_file } : {}),
        requireClientCert: file.server.tls.require_client_cert ?? false,
      },
    },
    storeUrl: storeUrl(env.DATABASE_URL ?? file.store?.url ?? ''),
    ...buildProviders(file.kms ?? {}, dataDir, env.NODE_ENV === 'production'),
    chains: chains(file.chains),
    validator: { rateLimitPerKey: ratePerSecond(file.validator?.rate_limit?.per_key ?? 0) },
    bridge: {
      chainId: chainId(file.bridge?.chain_id ?? 122, 'bridge.chain_id'),
      allowedTargets: (file.bridge?.allowed_targets ?? [120, 121]).map((c, i) =>
        chainId(c, `bridge.allowed_targets.${i}`),
      ),
      maxAgeSeconds: durationMs(file.bridge?.max_age ?? '1h') / 1000,
      maxSkewSeconds: durationMs(file.bridge?.max_skew ?? '30s') / 1000,
      maxPayload: sizeBytes(file.bridge?.max_payload ?? '64KiB'),
    },
    experience: {
      encryptionEnabled: file.experience_library?.encryption_enabled ?? true,
      keyRotationDays: file.experience_library?.key_rotation_days ?? 90,
      perUserKeys: file.experience_library?.per_user_keys ?? true,
      maxPlaintext: sizeBytes(file.experience_library?.max_plaintext ?? '1MiB'),
    },
    replicate: {
      ecosystems: file.replicate?.ecosystems ?? ['hanzo', 'lux', 'zoo'],
      retention: {
        sqliteSnapshotsMs: durationMs(file.replicate?.retention?.sqlite_snapshots ?? '30d'),
        zapdbSnapshotsMs: durationMs(file.replicate?.retention?.zapdb_snapshots ?? '7d'),
      },
    },
    auth: {
      tokenTtlSeconds:
        within('auth.token_ttl', file.auth?.token_ttl ?? '90d', 1_000, TEN_YEARS_MS, true) / 1000,
      rateLimitPerPrincipal: ratePerSecond(file.auth?.rate_limit?.per_principal ?? 0),
    },
    audit: {
      checkpointEvery: file.audit?.checkpoint_every ?? 1000,
      checkpointIntervalMs: within(
        'audit.checkpoint_interval',
        file.audit?.checkpoint_interval ?? '1m',
        1_000,
        DAY_MS,
      ),
    },
  };
  return deepFreeze(config);
}

function checkShape(raw: unknown): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('config: the file must be a YAML mapping');
  }
  const errors = [...Value.Errors(ConfigFileSchema, raw)];
  if (errors.length === 0) return;
  // Report the most specific problem: an unknown key by its own path, otherwise the deepest error.
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const names =
      (unknown.params as { additionalProperties?: string[] }).additionalProperties ?? [];
    const at = dotted(unknown.instancePath);
    throw new ConfigError(
      `config: unknown key ${names.map((n) => (at ? `${at}.${n}` : n)).join(', ')}`,
    );
  }
  const deepest = errors.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
  throw new ConfigError(`config: ${dotted(deepest.instancePath) || '(root)'} ${deepest.message}`);
}

function dotted(pointer: string): string {
  return pointer.split('/').filter(Boolean).join('.');
}

function port(envValue: string | undefined, fallback: number): number {
  if (envValue === undefined) return fallback;
  const n = Number(envValue);
  if (!/^[0-9]{1,5}$/.test(envValue) || n > 65535)
    throw new ConfigError(`KMS_PORT: not a port number (${envValue})`);
  return n;
}

function instanceId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new ConfigError('KMS_INSTANCE_ID: 1 to 64 characters of A-Z a-z 0-9 . _ -');
  }
  return value;
}

function storeUrl(url: string): string {
  if (url !== '' && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('DATABASE_URL / store.url: must be empty (SQLite) or a postgres:// URL');
  }
  return url;
}

const DEFAULT_CHAINS: ChainProfile[] = [
  { id: 122n, name: 'zoo', signatureTag: BLS_TAGS.SIG_NUL, popTag: BLS_TAGS.POP_PROVE },
  { id: 120n, name: 'lux', signatureTag: BLS_TAGS.SIG_NUL, popTag: BLS_TAGS.POP_PROVE },
  { id: 121n, name: 'hanzo', signatureTag: BLS_TAGS.SIG_NUL, popTag: BLS_TAGS.POP_PROVE },
];

function chains(list: ConfigFile['chains']): ChainProfile[] {
  if (!list) return DEFAULT_CHAINS;
  const seen = new Set<bigint>();
  return list.map((c, i) => {
    const id = chainId(c.id, `chains.${i}.id`);
    if (seen.has(id)) throw new ConfigError(`config: chains.${i}.id ${id} is listed twice`);
    seen.add(id);
    return {
      id,
      name: c.name,
      signatureTag: tag(c.signature_tag ?? 'SIG_NUL', `chains.${i}.signature_tag`),
      popTag: tag(c.pop_tag ?? 'POP_PROVE', `chains.${i}.pop_tag`),
    };
  });
}

/** Tokens live at most ten years (services/auth.ts). */
const TEN_YEARS_MS = 10 * 365 * DAY_MS;
const U64_MAX = 2n ** 64n - 1n;

/** A chain id: a u64, from a decimal string or a YAML integer that is exact (at most 2^53-1). */
function chainId(value: string | number, at: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new ConfigError(`config: ${at} above 2^53-1 must be written as a string (got ${value})`);
  const id = BigInt(value);
  if (id > U64_MAX) throw new ConfigError(`config: ${at} must be at most 2^64-1 (got ${value})`);
  return id;
}

/** A BLS tag name or full DST (crypto/bls/tags.ts), refused at start by its config path. */
function tag(value: string, at: string): string {
  try {
    return resolveTag(value, at);
  } catch {
    throw new ConfigError(
      `config: ${at} must be SIG_NUL, SIG_POP, POP_PROVE or one of their full tags (got ${value})`,
    );
  }
}

export function isPkcs11(type: ProviderType): boolean {
  return (PKCS11_TYPES as readonly string[]).includes(type);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export { ConfigError };
export type { Config, ProviderConfig };
