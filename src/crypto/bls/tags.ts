/**
 * BLS12-381 hash-to-curve tags (DSTs) by name (API.md "Conventions", ARCHITECTURE.md "Signing
 * rules"). The tag is a per-chain setting: luxfi/crypto signs under NUL, avalanchego and Ethereum
 * under POP, and a proof of possession signs the compressed public key under the PoP tag
 * (draft-irtf-cfrg-bls-signature-05 sec. 4.2.1-4.2.3).
 */
import { invalid } from '../../errors.js';

export const BLS_TAGS = {
  SIG_NUL: 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_',
  SIG_POP: 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_',
  POP_PROVE: 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_',
} as const;

export type BlsTagName = keyof typeof BLS_TAGS;
export type BlsTag = (typeof BLS_TAGS)[BlsTagName];

const FULL = new Set<string>(Object.values(BLS_TAGS));

function isTagName(value: string): value is BlsTagName {
  return Object.hasOwn(BLS_TAGS, value);
}

/** A tag name or one of the three full strings -> the full tag; anything else is a 400. */
export function resolveTag(value: unknown, field = 'dst'): BlsTag {
  if (typeof value === 'string') {
    if (isTagName(value)) return BLS_TAGS[value];
    if (FULL.has(value)) return value as BlsTag;
  }
  throw invalid(field, `must be one of ${Object.keys(BLS_TAGS).join(', ')} or its full tag`);
}

/** The DST bytes the engine takes (RFC 9380 sec. 3.1: the tag as ASCII). */
export function tagBytes(tag: BlsTag): Uint8Array {
  return new TextEncoder().encode(tag);
}

/** `resolveTag` then `tagBytes`, for request fields. */
export function resolveDst(value: unknown, field = 'dst'): Uint8Array {
  return tagBytes(resolveTag(value, field));
}
