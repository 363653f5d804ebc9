/**
 * ECDSA over secp256k1 and P-256 in software (@noble/curves): SHA-256 of the message or a given
 * 32-byte digest, signatures as raw `r || s` (IEEE P1363, 64 bytes). Signing always answers low-S
 * (s <= n/2, BIP-62 / EIP-2): API.md "Keys". Verification is plain ECDSA (SEC 1 sec. 4.1.4,
 * high-S accepted) unless `lowS` is asked for, as POST /v1/verify says.
 */
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { invalid } from '../errors.js';

export type EcCurve = 'secp256k1' | 'p-256';

const CURVES = { secp256k1, 'p-256': p256 } as const;

export const ECDSA_SIGNATURE_BYTES = 64;
export const EC_PUBLIC_KEY_BYTES = 33;

/** Either the message (hashed here with SHA-256) or its 32-byte SHA-256 digest. */
export type EcdsaInput = { message: Uint8Array } | { digest: Uint8Array };

export function ecdsaDigest(input: EcdsaInput): Uint8Array {
  if ('message' in input) return sha256(input.message);
  if (input.digest.length !== 32) throw invalid('digest', 'must be 32 bytes');
  return input.digest;
}

/** A 32-byte big-endian scalar in 1..n-1 (SEC 1 sec. 3.2.1), else a 400 naming `field`. */
export function assertEcSecretKey(curve: EcCurve, sk: Uint8Array, field = 'privateKey'): void {
  if (sk.length !== 32) throw invalid(field, `must be a 32-byte ${curve} scalar`);
  if (!CURVES[curve].utils.isValidSecretKey(sk)) {
    throw invalid(field, `must be a ${curve} scalar in 1..n-1`);
  }
}

/** The compressed SEC1 public key (33 bytes). */
export function ecPublicKey(curve: EcCurve, sk: Uint8Array): Uint8Array {
  assertEcSecretKey(curve, sk);
  return CURVES[curve].getPublicKey(sk, true);
}

/** SEC1 sec. 2.3.4: compressed (02/03) or uncompressed (04) and on the curve; else undefined. */
function decodePoint(curve: EcCurve, bytes: Uint8Array) {
  const compressed = bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3);
  if (!compressed && !(bytes.length === 65 && bytes[0] === 4)) return undefined;
  try {
    return CURVES[curve].Point.fromBytes(bytes);
  } catch {
    return undefined;
  }
}

/** SEC1 compressed or uncompressed -> compressed (33 bytes); anything else is a 400. */
export function parseEcPublicKey(
  curve: EcCurve,
  bytes: Uint8Array,
  field = 'publicKey',
): Uint8Array {
  const point = decodePoint(curve, bytes);
  if (point === undefined) throw invalid(field, `must be a ${curve} SEC1 public key`);
  return point.toBytes(true);
}

/** Affine coordinates of a SEC1 public key (32 bytes each), for JWKs. */
export function ecPublicKeyXY(
  curve: EcCurve,
  publicKey: Uint8Array,
): { x: Uint8Array; y: Uint8Array } {
  const uncompressed = CURVES[curve].Point.fromBytes(parseEcPublicKey(curve, publicKey)).toBytes(
    false,
  );
  return { x: uncompressed.slice(1, 33), y: uncompressed.slice(33, 65) };
}

/**
 * Deterministic (RFC 6979) low-S signature over a 32-byte digest. `recoverable` (secp256k1 only)
 * appends the recovery id, 0 or 1, as Ethereum's `v - 27`.
 */
export function ecdsaSign(
  curve: EcCurve,
  sk: Uint8Array,
  digest: Uint8Array,
  opts: { recoverable?: boolean } = {},
): Uint8Array {
  assertEcSecretKey(curve, sk);
  if (digest.length !== 32) throw invalid('digest', 'must be 32 bytes');
  if (opts.recoverable && curve !== 'secp256k1') {
    throw invalid('format', 'recoverable is only for secp256k1');
  }
  if (!opts.recoverable) return CURVES[curve].sign(digest, sk, { prehash: false, lowS: true });
  const rec = secp256k1.sign(digest, sk, { prehash: false, lowS: true, format: 'recovered' });
  // noble puts the id first; ids 2 and 3 (r >= n) occur with probability about 2^-128.
  if (rec[0]! > 1) throw new Error('ECDSA recovery id above 1');
  return Uint8Array.of(...rec.subarray(1), rec[0]!);
}

/**
 * Plain ECDSA verification of `r || s`; `lowS: true` also refuses s > n/2. A malformed public key
 * or signature answers false (API.md: such requests are well-formed and simply invalid).
 */
export function ecdsaVerify(
  curve: EcCurve,
  publicKey: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  opts: { lowS?: boolean } = {},
): boolean {
  if (digest.length !== 32) throw invalid('digest', 'must be 32 bytes');
  const point = decodePoint(curve, publicKey);
  if (point === undefined || signature.length !== ECDSA_SIGNATURE_BYTES) return false;
  const lowS = opts.lowS ?? false;
  try {
    return CURVES[curve].verify(signature, digest, point.toBytes(true), { prehash: false, lowS });
  } catch {
    return false;
  }
}

/** `r || s` with s replaced by n - s when s > n/2 (HSMs answer high-S about half the time). */
export function normalizeLowS(curve: EcCurve, rs: Uint8Array): Uint8Array {
  if (rs.length !== ECDSA_SIGNATURE_BYTES) throw new RangeError('r || s must be 64 bytes');
  const { Signature, Point } = CURVES[curve];
  const sig = Signature.fromBytes(rs, 'compact');
  if (!sig.hasHighS()) return Uint8Array.from(rs);
  return new Signature(sig.r, Point.Fn.ORDER - sig.s).toBytes('compact');
}

/**
 * `r || s || v` for a low-S secp256k1 signature made elsewhere (an HSM), by finding which id
 * recovers `publicKey` (SEC 1 sec. 4.1.6).
 */
export function appendRecoveryId(
  digest: Uint8Array,
  rs: Uint8Array,
  publicKey: Uint8Array,
): Uint8Array {
  const want = parseEcPublicKey('secp256k1', publicKey);
  const sig = secp256k1.Signature.fromBytes(rs, 'compact');
  for (const id of [0, 1]) {
    const got = sig.addRecoveryBit(id).recoverPublicKey(digest).toBytes(true);
    if (Buffer.from(got).equals(want)) return Uint8Array.of(...rs, id);
  }
  throw new Error('signature does not recover the public key');
}
