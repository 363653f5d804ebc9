/**
 * What a validator key signs (API.md "Validators", ARCHITECTURE.md "Signing rules": built on the
 * server from typed fields under a named domain-separation string, never opaque caller bytes):
 *
 *   signingRoot = SHA-256( utf8("zoo-kms/validator/block/v1") || u64be(chainId) || u64be(height)
 *                          || u32be(round) || blockHash )            with blockHash 32 bytes.
 */
import { createHash } from 'node:crypto';
import { u32be, u64be } from '../../crypto/encoding.js';

export const BLOCK_DOMAIN = 'zoo-kms/validator/block/v1';
export const BLOCK_HASH_BYTES = 32;

export interface BlockRequest {
  readonly chainId: bigint;
  readonly height: bigint;
  readonly round: number;
  readonly blockHash: Uint8Array;
}

export function blockSigningRoot(b: BlockRequest): Uint8Array {
  if (b.blockHash.length !== BLOCK_HASH_BYTES) throw new RangeError('blockHash must be 32 bytes');
  const digest = createHash('sha256')
    .update(BLOCK_DOMAIN, 'utf8')
    .update(u64be(b.chainId))
    .update(u64be(b.height))
    .update(u32be(b.round))
    .update(b.blockHash)
    .digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}
