/**
 * Software signatures by algorithm name, the shape API.md "Keys" gives sign and verify: ECDSA
 * takes a message or a digest, Ed25519 and ML-DSA-65 a message (both sign the message itself, not
 * a hash), and only ML-DSA-65 takes a context. The per-algorithm rules live in ./ecdsa.ts,
 * ./ed25519.ts and ./mldsa.ts.
 */
import { invalid } from '../errors.js';
import {
  assertEcSecretKey,
  ecdsaDigest,
  ecdsaSign,
  ecdsaVerify,
  ecPublicKey,
  parseEcPublicKey,
  type EcCurve,
} from './ecdsa.js';
import {
  assertEd25519Seed,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  parseEd25519PublicKey,
} from './ed25519.js';
import {
  assertMldsaSeed,
  MLDSA65_PUBLIC_KEY_BYTES,
  mldsaPublicKey,
  mldsaSign,
  mldsaVerify,
} from './mldsa.js';

export type SignatureAlgorithm = EcCurve | 'ed25519' | 'ml-dsa-65';

/** `digest` (32 bytes, SHA-256) is accepted for ECDSA only. */
export type SignInput = { message: Uint8Array } | { digest: Uint8Array };

export interface SignOptions {
  /** secp256k1: append the recovery id (0 or 1). */
  recoverable?: boolean;
  /** ml-dsa-65: FIPS 204 context string, up to 255 bytes. */
  context?: Uint8Array;
}

export interface VerifyOptions {
  /** ECDSA: also refuse high-S signatures (default false: plain ECDSA). */
  lowS?: boolean;
  /** ml-dsa-65: FIPS 204 context string, up to 255 bytes. */
  context?: Uint8Array;
}

function isEc(alg: SignatureAlgorithm): alg is EcCurve {
  return alg === 'secp256k1' || alg === 'p-256';
}

/** Refuses what the algorithm does not take, naming the request field. */
function messageOf(alg: SignatureAlgorithm, input: SignInput, context?: Uint8Array): Uint8Array {
  if (context !== undefined && alg !== 'ml-dsa-65')
    throw invalid('context', 'is only for ml-dsa-65');
  if (!('message' in input)) throw invalid('digest', 'is only for secp256k1 and p-256');
  return input.message;
}

/** Checks an imported private key: EC scalar range, or a 32-byte seed (API.md "Conventions"). */
export function assertPrivateKey(
  alg: SignatureAlgorithm,
  sk: Uint8Array,
  field = 'privateKey',
): void {
  if (isEc(alg)) assertEcSecretKey(alg, sk, field);
  else if (alg === 'ed25519') assertEd25519Seed(sk, field);
  else assertMldsaSeed(sk, field);
}

/** The public key as responses carry it: compressed SEC1, 32-byte Ed25519, 1,952-byte ML-DSA-65. */
export function derivePublicKey(alg: SignatureAlgorithm, sk: Uint8Array): Uint8Array {
  if (isEc(alg)) return ecPublicKey(alg, sk);
  return alg === 'ed25519' ? ed25519PublicKey(sk) : mldsaPublicKey(sk);
}

/** A request's public key in canonical form (EC: compressed), or a 400 naming `field`. */
export function parsePublicKey(
  alg: SignatureAlgorithm,
  bytes: Uint8Array,
  field = 'publicKey',
): Uint8Array {
  if (isEc(alg)) return parseEcPublicKey(alg, bytes, field);
  if (alg === 'ed25519') return parseEd25519PublicKey(bytes, field);
  if (bytes.length !== MLDSA65_PUBLIC_KEY_BYTES) throw invalid(field, 'must be 1952 bytes');
  return bytes;
}

export function signWith(
  alg: SignatureAlgorithm,
  sk: Uint8Array,
  input: SignInput,
  opts: SignOptions = {},
): Uint8Array {
  if (isEc(alg)) {
    if (opts.context !== undefined) throw invalid('context', 'is only for ml-dsa-65');
    return ecdsaSign(alg, sk, ecdsaDigest(input), { recoverable: opts.recoverable ?? false });
  }
  if (opts.recoverable) throw invalid('format', 'recoverable is only for secp256k1');
  const message = messageOf(alg, input, opts.context);
  return alg === 'ed25519' ? ed25519Sign(sk, message) : mldsaSign(sk, message, opts.context);
}

/** False for a wrong, malformed or mis-sized key or signature; a malformed request throws. */
export function verifyWith(
  alg: SignatureAlgorithm,
  publicKey: Uint8Array,
  input: SignInput,
  signature: Uint8Array,
  opts: VerifyOptions = {},
): boolean {
  if (isEc(alg)) {
    if (opts.context !== undefined) throw invalid('context', 'is only for ml-dsa-65');
    return ecdsaVerify(alg, publicKey, ecdsaDigest(input), signature, { lowS: opts.lowS ?? false });
  }
  const message = messageOf(alg, input, opts.context);
  if (alg === 'ed25519') return ed25519Verify(publicKey, message, signature);
  return mldsaVerify(publicKey, message, signature, opts.context);
}
