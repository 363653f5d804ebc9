/**
 * HKDF-Expand (RFC 5869 sec. 2.3) over an HMAC-SHA256 given as a function, so the PRK can stay
 * inside an HSM: the caller passes `data => HMAC(prk, data)` computed by the provider, and a
 * uniformly random master used directly as the PRK is allowed by sec. 3.3 (ARCHITECTURE.md
 * "Key hierarchy", invariant 4).
 */
import { invalid } from '../errors.js';

const HASH_LEN = 32;
/** sec. 2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_LENGTH = 255 * HASH_LEN;

/** OKM = first `length` bytes of T(1) || T(2) || ..., T(i) = HMAC(PRK, T(i-1) || info || i). */
export async function hkdfExpand(
  hmac: (data: Uint8Array) => Promise<Uint8Array>,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_MAX_LENGTH) {
    throw invalid('length', `must be an integer from 1 to ${HKDF_SHA256_MAX_LENGTH}`);
  }
  const okm = new Uint8Array(length);
  let previous = new Uint8Array(0);
  try {
    for (let i = 1, at = 0; at < length; i++) {
      const input = new Uint8Array(previous.length + info.length + 1);
      input.set(previous);
      input.set(info, previous.length);
      input[input.length - 1] = i;
      const block = await hmac(input).finally(() => input.fill(0));
      try {
        if (block.length !== HASH_LEN)
          throw new Error('HKDF-Expand needs a 32-byte HMAC-SHA256 output');
        okm.set(block.subarray(0, length - at), at);
        at += HASH_LEN;
        previous.fill(0);
        previous = Uint8Array.from(block);
      } finally {
        block.fill(0);
      }
    }
    return okm;
  } catch (e) {
    // A failed expansion leaves no part of the key behind.
    okm.fill(0);
    throw e;
  } finally {
    previous.fill(0);
  }
}
