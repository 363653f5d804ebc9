/**
 * HMAC-SHA256 (RFC 2104) in software for keys of purpose `signing` and `derivation`; the HSM path
 * computes the same MAC inside the token (ARCHITECTURE.md "Key hierarchy").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalid } from '../errors.js';

export const HMAC_KEY_BYTES = 32;
export const HMAC_SHA256_BYTES = 32;

/** API.md: hmac-sha256 keys are 32 bytes (and SoftHSM2 refuses shorter ones). */
export function assertHmacKey(key: Uint8Array, field = 'privateKey'): void {
  if (key.length !== HMAC_KEY_BYTES) throw invalid(field, 'must be a 32-byte HMAC-SHA256 key');
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  assertHmacKey(key);
  return Uint8Array.from(createHmac('sha256', key).update(data).digest());
}

/** Compares in constant time, so a caller cannot learn a valid MAC byte by byte. */
export function hmacSha256Verify(key: Uint8Array, data: Uint8Array, mac: Uint8Array): boolean {
  const expected = hmacSha256(key, data);
  try {
    return mac.length === expected.length && timingSafeEqual(expected, mac);
  } finally {
    expected.fill(0);
  }
}
