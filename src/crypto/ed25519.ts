/**
 * Ed25519 (RFC 8032 sec. 5.1, pure) in software over a 32-byte seed. Verification follows RFC 8032
 * sec. 5.1.7 strictly (canonical encodings, S < L), not ZIP-215, so a signature valid here is
 * valid for every RFC 8032 verifier, and malformed keys or signatures answer false.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { invalid } from '../errors.js';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export function assertEd25519Seed(seed: Uint8Array, field = 'privateKey'): void {
  if (seed.length !== 32) throw invalid(field, 'must be a 32-byte Ed25519 seed');
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  assertEd25519Seed(seed);
  return ed25519.getPublicKey(seed);
}

export function parseEd25519PublicKey(bytes: Uint8Array, field = 'publicKey'): Uint8Array {
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES || !ed25519.utils.isValidPublicKey(bytes, false)) {
    throw invalid(field, 'must be a 32-byte Ed25519 public key');
  }
  return bytes;
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  assertEd25519Seed(seed);
  return ed25519.sign(message, seed);
}

export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (
    publicKey.length !== ED25519_PUBLIC_KEY_BYTES ||
    signature.length !== ED25519_SIGNATURE_BYTES
  ) {
    return false;
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
