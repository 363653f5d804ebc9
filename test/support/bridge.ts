/**
 * Bridge (LP-401) helpers for tests, written from API.md "Bridge" without the code under test:
 * fixed BLS secret keys, the messageHash recomputed with @noble/hashes, and @noble/curves signing.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const sigs = bls12_381.longSignatures;
export const NUL = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_';
export const POP = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

/** A valid BLS secret key (top bits cleared, so below the group order). */
export const sk = (i: number): Uint8Array =>
  sha256(utf8ToBytes(`zoo-kms bridge test key ${i}`)).map((b, j) => (j === 0 ? b & 0x3f : b));
export const pkOf = (i: number): Uint8Array => sigs.getPublicKey(sk(i)).toBytes(true);
export const hex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex');
export const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

export interface Msg {
  sourceChainId: string | number;
  targetChainId: string | number;
  nonce: string | number;
  timestamp: string | number;
  payload: string;
}

/** A message from Zoo (122) to Lux (120) sent at `timestamp` (Unix seconds). */
export const bridgeMessage = (timestamp: number, o: Partial<Msg> = {}): Msg => ({
  sourceChainId: '122',
  targetChainId: '120',
  nonce: '1',
  timestamp: String(timestamp),
  payload: '0xc0ffee',
  ...o,
});

function u64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 7, x = v; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/** `messageHash` exactly as API.md "Bridge" writes it. */
export function expectedHash(m: Msg): Uint8Array {
  const fields = [m.sourceChainId, m.targetChainId, m.nonce, m.timestamp].map((v) =>
    u64(BigInt(v)),
  );
  const domain = utf8ToBytes('zoo-kms/bridge/lp-401/v1');
  return sha256(concatBytes(domain, ...fields, sha256(bytes(m.payload))));
}

/** What a bridge signer outside the KMS would produce for key `i` under `tag`. */
export function nobleSign(i: number, m: Msg, tag: string): Uint8Array {
  return sigs.Signature.toBytes(sigs.sign(sigs.hash(expectedHash(m), tag), sk(i)));
}
