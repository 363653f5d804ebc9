/**
 * Resolves the `kms:` block into the ordered provider list (CONFIG.md): the primary first, then the
 * failover list. A provider is written either as a vendor block (`softhsm2:`) or as a named
 * instance under `providers:` with a `type`. `softhsm2` with no block is the embedded token.
 */
import path from 'node:path';
import type { ConfigFile, NamedProviderFile, ProviderType } from './schema.js';
import { ConfigError, type Config, type ProviderConfig } from './config.js';
import { DAY_MS, within } from './units.js';

type Kms = NonNullable<ConfigFile['kms']>;
const VENDOR_BLOCKS = [
  'softhsm2',
  'yubihsm2',
  'nitrokey',
  'zymbit',
  'luna',
  'aws-cloudhsm',
  'google-cloud-kms',
  'software',
] as const;

export function buildProviders(
  kms: Kms,
  dataDir: string,
  production: boolean,
): Pick<Config, 'providers' | 'failover'> {
  const primary = kms.provider ?? 'softhsm2';
  const failover = kms.failover ?? {};
  let names = [primary];
  if (failover.providers) names = [primary, ...failover.providers.filter((n) => n !== primary)];
  else if (failover.backup_provider && failover.backup_provider !== primary)
    names.push(failover.backup_provider);
  const providers = names.map((name) => resolve(kms, name, dataDir));
  for (const p of providers) {
    if (p.type === 'software' && production && !p.allowInProduction) {
      throw new ConfigError(
        `kms: provider ${p.name} is the software provider, refused with NODE_ENV=production (set allow_in_production to override)`,
      );
    }
  }
  return {
    providers,
    failover: {
      enabled: failover.enabled ?? names.length > 1,
      healthCheckIntervalMs: within(
        'kms.failover.health_check_interval',
        failover.health_check_interval ?? '30s',
        1_000,
        DAY_MS,
      ),
    },
  };
}

function resolve(kms: Kms, name: string, dataDir: string): ProviderConfig {
  const named = kms.providers?.[name];
  if (named) return fromFields(name, named.type, named, dataDir);
  if ((VENDOR_BLOCKS as readonly string[]).includes(name)) {
    const block = (kms as Record<string, unknown>)[name] as Partial<NamedProviderFile> | undefined;
    if (block) return fromFields(name, name as ProviderType, block, dataDir);
    if (name === 'softhsm2') return embeddedSoftHsm(dataDir);
    if (name === 'software')
      return { name, type: 'software', keyFile: path.join(dataDir, 'software-root.key') };
  }
  throw new ConfigError(
    `kms: provider ${name} is named but has no block under kms or kms.providers`,
  );
}

function embeddedSoftHsm(dataDir: string): ProviderConfig {
  return {
    name: 'softhsm2',
    type: 'softhsm2',
    library: '/usr/lib/softhsm/libsofthsm2.so',
    tokenLabel: 'zoo-kms',
    pinFile: path.join(dataDir, 'softhsm', 'user.pin'),
    embedded: true,
  };
}

function fromFields(
  name: string,
  type: ProviderType,
  f: Partial<NamedProviderFile>,
  dataDir: string,
): ProviderConfig {
  if (type === 'google-cloud-kms') {
    for (const k of ['project_id', 'location', 'key_ring', 'root_key'] as const) {
      if (!f[k]) throw new ConfigError(`kms: provider ${name} (google-cloud-kms) needs ${k}`);
    }
  }
  if (type === 'softhsm2' && !f.pin_file) {
    // A softhsm2 block without a PIN file is the embedded token with other settings.
    return { ...embeddedSoftHsm(dataDir), ...compact(name, type, f, dataDir), embedded: true };
  }
  if (type !== 'software' && type !== 'google-cloud-kms' && !f.pin_file) {
    throw new ConfigError(`kms: provider ${name} (${type}) needs pin_file`);
  }
  return compact(name, type, f, dataDir);
}

function compact(
  name: string,
  type: ProviderType,
  f: Partial<NamedProviderFile>,
  dataDir: string,
): ProviderConfig {
  const out: Record<string, unknown> = {
    name,
    type,
    library: f.library,
    tokenLabel: f.token_label,
    slot: f.slot,
    pinFile: f.pin_file,
    rootKeyLabel: f.root_key_label,
    clusterId: f.cluster_id,
    region: f.region,
    endpoint: f.endpoint,
    projectId: f.project_id,
    location: f.location,
    keyRing: f.key_ring,
    rootKey: f.root_key,
    credentials: f.credentials,
    keyFile:
      f.key_file ?? (type === 'software' ? path.join(dataDir, `${name}-root.key`) : undefined),
    allowInProduction: f.allow_in_production,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as unknown as ProviderConfig;
}
