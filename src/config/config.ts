/**
 * The validated, frozen configuration every layer receives (STYLE.md rule 4). Built once by
 * `loadConfig` from the YAML file, the environment overrides and the embedded defaults.
 */
import type { ProviderType } from './schema.js';

export interface ProviderConfig {
  /** Instance name: the vendor block's name (`softhsm2`) or the key under `kms.providers`. */
  readonly name: string;
  readonly type: ProviderType;
  /** PKCS#11 settings. */
  readonly library?: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly pinFile?: string;
  readonly rootKeyLabel?: string;
  /** The embedded SoftHSM2 token that the service initialises itself in the data dir. */
  readonly embedded?: boolean;
  /** AWS CloudHSM. */
  readonly clusterId?: string;
  readonly region?: string;
  readonly endpoint?: string;
  /** Google Cloud KMS. */
  readonly projectId?: string;
  readonly location?: string;
  readonly keyRing?: string;
  readonly rootKey?: string;
  readonly credentials?: string;
  /** Software (development only). */
  readonly keyFile?: string;
  readonly allowInProduction?: boolean;
}

export interface ChainProfile {
  readonly id: bigint;
  readonly name: string;
  /** The full hash-to-curve DST (config accepts the names SIG_NUL, SIG_POP, POP_PROVE). */
  readonly signatureTag: string;
  readonly popTag: string;
}

export interface Config {
  readonly dataDir: string;
  /** From `KMS_INSTANCE_ID`; when absent the app keeps a random id in the data dir. */
  readonly instanceId: string | undefined;
  readonly production: boolean;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimit: number;
    readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
    readonly tls:
      | {
          readonly certFile: string;
          readonly keyFile: string;
          readonly clientCaFile?: string;
          readonly requireClientCert: boolean;
        }
      | undefined;
  };
  /** Empty: SQLite in the data dir; `postgres://...`: PostgreSQL. */
  readonly storeUrl: string;
  /** Every configured provider, highest priority first; secrets are wrapped once for each. */
  readonly providers: readonly ProviderConfig[];
  readonly failover: { readonly enabled: boolean; readonly healthCheckIntervalMs: number };
  readonly chains: readonly ChainProfile[];
  readonly validator: { readonly rateLimitPerKey: number };
  readonly bridge: {
    readonly chainId: bigint;
    readonly allowedTargets: readonly bigint[];
    readonly maxAgeSeconds: number;
    readonly maxSkewSeconds: number;
    readonly maxPayload: number;
  };
  readonly experience: {
    readonly encryptionEnabled: boolean;
    readonly keyRotationDays: number;
    readonly perUserKeys: boolean;
    readonly maxPlaintext: number;
  };
  readonly replicate: {
    readonly ecosystems: readonly ('hanzo' | 'lux' | 'zoo')[];
    readonly retention: { readonly sqliteSnapshotsMs: number; readonly zapdbSnapshotsMs: number };
  };
  readonly auth: { readonly tokenTtlSeconds: number; readonly rateLimitPerPrincipal: number };
  readonly audit: { readonly checkpointEvery: number; readonly checkpointIntervalMs: number };
}

/** A bad config file or environment value; the message names the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
