/**
 * The per-user key (ARCHITECTURE.md "Key hierarchy", item 4; docs/experience.md "Derivation"):
 *
 *   key = HKDF-Expand(PRK = master_v, info = "zoo:experience:v{v}:" || salt_{u,g} || utf8(userId), L = 32)
 *
 * The master is a uniformly random 32-byte HMAC key used directly as the PRK (RFC 5869 sec. 3.3),
 * so Expand runs through the provider's HMAC-SHA256 and the master never leaves it. The salt is
 * 32 random bytes per (user, generation): without it the master cannot re-derive the key.
 */
import { hkdfExpand } from '../../crypto/hkdf.js';
import { AES256_KEY_BYTES } from '../../crypto/aead.js';

/** `"zoo:experience:v{v}:" || salt || utf8(userId)`. */
export function experienceInfo(
  masterVersion: number,
  salt: Uint8Array,
  userId: string,
): Uint8Array {
  return Buffer.concat([
    Buffer.from(`zoo:experience:v${masterVersion}:`, 'utf8'),
    salt,
    Buffer.from(userId, 'utf8'),
  ]);
}

/** Derives the user's 32-byte AES-256-GCM key; `hmac` is HMAC-SHA256 keyed by master version v. */
export async function deriveUserKey(
  hmac: (data: Uint8Array) => Promise<Uint8Array>,
  masterVersion: number,
  salt: Uint8Array,
  userId: string,
): Promise<Uint8Array> {
  const info = experienceInfo(masterVersion, salt, userId);
  try {
    return await hkdfExpand(hmac, info, AES256_KEY_BYTES);
  } finally {
    info.fill(0);
  }
}
