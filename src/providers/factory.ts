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
import { pinFormMismatch, type VendorName } from './pkcs11/vendors.js';
import { ensureSoftHsmToken } from './pkcs11/softhsm-bootstrap.js';

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
  const pin = readSecret(settings.pinFile!, `kms: provider ${p.name}: pin_file`);
  const form = pinFormMismatch(p.type as VendorName, pin);
  if (form) throw new ConfigError(`kms: provider ${p.name}: pin_file must hold ${form}`);
  const options = {
    name: settings.name,
    ...(settings.library !== undefined ? { library: settings.library } : {}),
    ...(settings.tokenLabel !== undefined ? { tokenLabel: settings.tokenLabel } : {}),
    ...(settings.slot !== undefined ? { slot: settings.slot } : {}),
    pin,
    ...(settings.rootKeyLabel !== undefined ? { rootKeyLabel: settings.rootKeyLabel } : {}),
  };
  if (p.type === 'aws-cloudhsm') {
    // Imported only when configured, like Cloud KMS: the AWS SDK is large to load.
    const { CloudHsmProvider } = await import('./pkcs11/cloudhsm.js');
    return new CloudHsmProvider({
      ...options,
      ...(p.clusterId ? { clusterId: p.clusterId } : {}),
      ...(p.region ? { region: p.region } : {}),
      ...(p.endpoint ? { endpoint: p.endpoint } : {}),
    });
  }
  return new Pkcs11Provider({ ...options, vendor: settings.type as VendorName });
}

async function gcpProvider(p: ProviderConfig): Promise<KeyProvider> {
  if (p.credentials) checkReadable(p.credentials, `kms: provider ${p.name}: credentials`);
  // Imported only when configured: @google-cloud/kms (gRPC, protobufjs) is most of the module
  // loading of a start-up otherwise (docs/performance.md, startup-10k-keys).
  const { GcpKmsProvider } = await import('./gcp/provider.js');
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
