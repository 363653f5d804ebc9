/** Response shapes of keys (API.md "Keys"): hex public keys, ISO times, decimal chain ids. */
import type { KeyRecord } from '../keyring/record.js';
import { toHex } from '../crypto/encoding.js';
import { activeVersion } from '../keyring/record.js';

export function keyView(key: KeyRecord, protection?: (key: KeyRecord) => string) {
  const active = activeVersion(key);
  return {
    name: key.name,
    algorithm: key.algorithm,
    purpose: key.purpose,
    ...(active?.publicKey ? { publicKey: toHex(active.publicKey) } : {}),
    ...(key.chains ? { chains: key.chains.map(String) } : {}),
    jwks: key.jwks,
    residency: key.residency,
    ...(protection ? { protection: protection(key) } : {}),
    enabled: key.enabled,
    minDecryptionVersion: key.minDecryptionVersion,
    createdAt: new Date(key.createdAt).toISOString(),
    ...(key.destroyedAt !== null ? { destroyedAt: new Date(key.destroyedAt).toISOString() } : {}),
    versions: key.versions.map((v) => ({
      version: v.version,
      state: v.state,
      createdAt: new Date(v.createdAt).toISOString(),
      ...(v.publicKey ? { publicKey: toHex(v.publicKey) } : {}),
    })),
  };
}
