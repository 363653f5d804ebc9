/**
 * BLS12-381 secret keys: a 32-byte big-endian scalar in 1..r-1 (API.md "Conventions";
 * draft-irtf-cfrg-bls-signature-05 sec. 2.3 KeyGen output range). Checked before any secret is
 * handed to the addon or a worker, so a bad import is a clear 400 rather than a worker error.
 */
import { invalid } from '../../errors.js';

/** The order r of G1 and G2, big-endian. */
const R = Uint8Array.from(
  Buffer.from('73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001', 'hex'),
);

/** True when `sk` < r and `sk` != 0, without branching on secret bytes. */
function inRange(sk: Uint8Array): boolean {
  let borrow = 0;
  let any = 0;
  for (let i = 31; i >= 0; i--) {
    const a = sk[i] ?? 0;
    borrow = (a - (R[i] ?? 0) - borrow) >>> 31; // 1 when the byte subtraction went negative
    any |= a;
  }
  return borrow === 1 && any !== 0;
}

/** Throws `invalid(field, ...)` unless `sk` is a valid BLS secret scalar. */
export function assertSecretKey(sk: Uint8Array, field = 'privateKey'): void {
  if (sk.length !== 32) throw invalid(field, 'must be a 32-byte BLS12-381 scalar');
  if (!inRange(sk)) throw invalid(field, 'must be a scalar in 1..r-1');
}
