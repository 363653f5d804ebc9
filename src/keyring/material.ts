/**
 * Key material by algorithm: generation, import checks and public-key derivation (API.md
 * "Conventions": private keys are 32-byte scalars or seeds; symmetric keys 32 bytes).
 */
import { randomBytes } from 'node:crypto';
import { invalid } from '../errors.js';
import type { Algorithm } from '../providers/provider.js';
import type { BlsEngine } from '../crypto/bls/engine.js';
import { assertSecretKey } from '../crypto/bls/keys.js';
import {
  assertPrivateKey,
  derivePublicKey,
  type SignatureAlgorithm,
} from '../crypto/signatures.js';

const SIGNATURE_ALGS: readonly Algorithm[] = ['secp256k1', 'p-256', 'ed25519', 'ml-dsa-65'];

export function isSignatureAlgorithm(alg: Algorithm): alg is SignatureAlgorithm {
  return SIGNATURE_ALGS.includes(alg);
}

/** Checks imported material; throws a 400 naming `field`. */
export function assertImportable(alg: Algorithm, secret: Uint8Array, field = 'privateKey'): void {
  if (alg === 'bls12-381') return assertSecretKey(secret, field);
  if (isSignatureAlgorithm(alg)) return assertPrivateKey(alg, secret, field);
  if (secret.length !== 32) throw invalid(field, `must be 32 bytes for ${alg}`);
}

/** Fresh material; rejection sampling keeps scalars uniform in 1..n-1. */
export function generateSecret(alg: Algorithm): Uint8Array {
  for (;;) {
    const candidate = new Uint8Array(randomBytes(32));
    try {
      assertImportable(alg, candidate);
      return candidate;
    } catch {
      candidate.fill(0);
    }
  }
}

/** The public key responses carry, or null for symmetric keys. */
export function publicKeyOf(alg: Algorithm, secret: Uint8Array, bls: BlsEngine): Uint8Array | null {
  if (alg === 'bls12-381') return bls.publicKey(secret);
  if (isSignatureAlgorithm(alg)) return derivePublicKey(alg, secret);
  return null;
}
