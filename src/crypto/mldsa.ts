/**
 * ML-DSA-65 (FIPS 204, pure ML-DSA sec. 5.2-5.3) in software. The private key we store is the
 * 32-byte seed xi of ML-DSA.KeyGen_internal (sec. 6.1), so the 4,032-byte expanded key exists only
 * while an operation runs and is wiped after it. Signing is hedged (sec. 3.4 recommends it).
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { invalid } from '../errors.js';

export const MLDSA65_PUBLIC_KEY_BYTES = 1952;
export const MLDSA65_SIGNATURE_BYTES = 3309;
/** FIPS 204 sec. 5.2: the context string is at most 255 bytes. */
export const MLDSA_MAX_CONTEXT_BYTES = 255;

export function assertMldsaSeed(seed: Uint8Array, field = 'privateKey'): void {
  if (seed.length !== 32) throw invalid(field, 'must be a 32-byte ML-DSA-65 seed');
}

function assertContext(context: Uint8Array): void {
  if (context.length > MLDSA_MAX_CONTEXT_BYTES)
    throw invalid('context', 'must be at most 255 bytes');
}

export function mldsaPublicKey(seed: Uint8Array): Uint8Array {
  assertMldsaSeed(seed);
  const { publicKey, secretKey } = ml_dsa65.keygen(seed);
  secretKey.fill(0);
  return publicKey;
}

export function mldsaSign(
  seed: Uint8Array,
  message: Uint8Array,
  context: Uint8Array = new Uint8Array(),
): Uint8Array {
  assertMldsaSeed(seed);
  assertContext(context);
  const { secretKey } = ml_dsa65.keygen(seed);
  try {
    return ml_dsa65.sign(message, secretKey, { context });
  } finally {
    secretKey.fill(0);
  }
}

/** False for a malformed key or signature; a context over 255 bytes is a malformed request. */
export function mldsaVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array = new Uint8Array(),
): boolean {
  assertContext(context);
  if (
    publicKey.length !== MLDSA65_PUBLIC_KEY_BYTES ||
    signature.length !== MLDSA65_SIGNATURE_BYTES
  ) {
    return false;
  }
  try {
    return ml_dsa65.verify(signature, message, publicKey, { context });
  } catch {
    return false;
  }
}
