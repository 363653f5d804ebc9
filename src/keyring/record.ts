/** A key as the services see it: metadata, versions and one wrapped blob per provider. */
import type { Algorithm } from '../providers/provider.js';

export type VersionState = 'active' | 'decrypt-only' | 'destroyed';
export type Residency = 'wrapped' | 'provider';
export type Purpose =
  | 'validator'
  | 'bridge'
  | 'signing'
  | 'encryption'
  | 'derivation'
  | 'experience-master'
  | 'replicate-master'
  | 'audit-checkpoint';

export interface KeyVersionRecord {
  readonly version: number;
  readonly state: VersionState;
  readonly publicKey: Uint8Array | null;
  readonly createdAt: number;
  /** Provider name -> that provider's wrapped blob. */
  readonly wraps: ReadonlyMap<string, Uint8Array>;
}

export interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly purpose: Purpose;
  readonly chains: readonly bigint[] | null;
  readonly jwks: boolean;
  readonly residency: Residency;
  readonly provider: string | null;
  readonly enabled: boolean;
  readonly minDecryptionVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly destroyedAt: number | null;
  /** Ascending by version. */
  readonly versions: readonly KeyVersionRecord[];
}

export function activeVersion(key: KeyRecord): KeyVersionRecord | undefined {
  return key.versions.find((v) => v.state === 'active');
}

export function findVersion(key: KeyRecord, version: number): KeyVersionRecord | undefined {
  return key.versions.find((v) => v.version === version);
}

/** The handle-cache id of one secret version (see SecretRef.id). */
export function secretId(key: KeyRecord, version: number): string {
  return `${key.id}:${version}`;
}
