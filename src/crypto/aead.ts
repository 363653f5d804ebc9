/**
 * AES-256-GCM in software (NIST SP 800-38D) for the software provider and tests. Only 96-bit IVs
 * are taken: other lengths go through GHASH (sec. 7.1) and SoftHSM2 even accepts an empty IV
 * (ARCHITECTURE.md "Providers"), so every path enforces 12 bytes. The tag is always 128 bits.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { RandomPool } from './random-pool.js';
import { IntegrityError } from '../providers/provider.js';

export const AES256_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

function check(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== AES256_KEY_BYTES) throw new RangeError('AES-256-GCM key must be 32 bytes');
  if (iv.length !== GCM_IV_BYTES) throw new RangeError('AES-256-GCM IV must be 12 bytes');
}

// IVs come from a pool of CSPRNG output (./random-pool.ts), each a copy handed out once.
const ivs = new RandomPool(GCM_IV_BYTES * 256);

/** A fresh random 96-bit IV (sec. 8.2.2); never reuse one under the same key. */
export function newGcmIv(): Uint8Array {
  return ivs.bytes(GCM_IV_BYTES);
}

/** Returns ciphertext || tag. */
export function aesGcmSeal(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
): Uint8Array {
  check(key, iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  // Written straight into the result (GCM is a stream mode: `final` adds no bytes, but is kept).
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length + GCM_TAG_BYTES);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(cipher.getAuthTag(), head.length + tail.length);
  return out;
}

/** Opens ciphertext || tag; any authentication failure throws `IntegrityError`. */
export function aesGcmOpen(
  key: Uint8Array,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
): Uint8Array {
  check(key, iv);
  if (sealed.length < GCM_TAG_BYTES) throw new IntegrityError('AES-GCM input shorter than its tag');
  const split = sealed.length - GCM_TAG_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(split));
  const body = decipher.update(sealed.subarray(0, split));
  try {
    return Uint8Array.from(Buffer.concat([body, decipher.final()]));
  } catch (e) {
    throw new IntegrityError('AES-GCM tag mismatch', { cause: e });
  } finally {
    body.fill(0); // unauthenticated plaintext must not linger
  }
}
