/**
 * Builds providers from config. PKCS#11 vendors are settings of one implementation (STYLE.md
 * rule 2); the embedded SoftHSM2 token is initialised in the data dir on first start.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, ProviderConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { KeyProvider } from './provider.js';
import { SoftwareProvider } from './software.js';
import { Pkcs11Provider } from './pkcs11/provider.js';
import type { VendorName } from './pkcs11/vendors.js';
import { ensureSoftHsmToken } from './pkcs11/softhsm-bootstrap.js';
import { GcpKmsProvider } from './gcp/provider.js';

export type ProviderFactory = (p: ProviderConfig, config: Config) => Promise<KeyProvider>;

/** Extra kinds (Google Cloud KMS) register here. */
export const PROVIDER_FACTORIES: Partial<Record<ProviderConfig['type'], ProviderFactory>> = {};

export async function createProvider(p: ProviderConfig, config: Config): Promise<KeyProvider> {
  const custom = PROVIDER_FACTORIES[p.type];
  if (custom) return custom(p, config);
  if (p.type === 'software') {
    return new SoftwareProvider({
      name: p.name,
      keyFile: p.keyFile ?? path.join(config.dataDir, 'software-root.key'),
      allowInProduction: p.allowInProduction ?? false,
    });
  }
  if (p.type === 'google-cloud-kms') return gcpProvider(p);
  let settings = p;
  if (p.embedded) {
    const token = ensureSoftHsmToken({
      dir: path.join(config.dataDir, 'softhsm'),
      label: p.tokenLabel ?? 'zoo-kms',
      library: p.library ?? '/usr/lib/softhsm/libsofthsm2.so',
    });
    settings = {
      ...p,
      library: token.library,
      tokenLabel: token.tokenLabel,
      pinFile: token.pinFile,
    };
  }
  return new Pkcs11Provider({
    name: settings.name,
    vendor: settings.type as VendorName,
    library: settings.library!,
    ...(settings.tokenLabel !== undefined ? { tokenLabel: settings.tokenLabel } : {}),
    ...(settings.slot !== undefined ? { slot: settings.slot } : {}),
    pin: readSecret(settings.pinFile!, `kms: provider ${p.name}: pin_file`),
    ...(settings.rootKeyLabel !== undefined ? { rootKeyLabel: settings.rootKeyLabel } : {}),
  });
}

function gcpProvider(p: ProviderConfig): KeyProvider {
  if (p.credentials) checkReadable(p.credentials, `kms: provider ${p.name}: credentials`);
  return new GcpKmsProvider({
    name: p.name,
    projectId: p.projectId!,
    location: p.location!,
    keyRing: p.keyRing!,
    rootKey: p.rootKey!,
    ...(p.credentials ? { credentials: p.credentials } : {}),
    ...(p.endpoint ? { endpoint: p.endpoint } : {}),
  });
}

function checkReadable(file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (e) {
    throw new ConfigError(
      `${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

/** Reads a secret file, trimmed; a clear start-up error names the setting when it cannot. */
export function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(
      `${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}
