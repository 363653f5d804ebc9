/**
 * AES-256-GCM in software (NIST SP 800-38D): the experience library's per-user keys, envelope
 * data keys, the software provider and tests. Only 96-bit IVs are taken: other lengths go through
 * GHASH (sec. 7.1) and SoftHSM2 even accepts an empty IV (ARCHITECTURE.md "Providers"), so every
 * path enforces 12 bytes. The tag is always 128 bits.
 *
 * Both directions are one call into our addon (native/aead/zoo_aead.c) over the OpenSSL node is
 * built with: the same EVP implementation `createCipheriv` reaches, without the stream object,
 * key object and copies around each call, which cost 9 to 17 us of main-thread time per 1 KiB
 * against about 3 us (docs/performance.md, "The experience paths").
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNativeAddon } from './native-addon.js';
import { RandomPool } from './random-pool.js';
import { IntegrityError } from '../providers/provider.js';

interface AeadAddon {
  /** ciphertext || tag, in a new ArrayBuffer of its own. */
  seal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** The plaintext in a new ArrayBuffer, or null when the tag does not verify (nothing kept). */
  open(key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null;
}

function loadAddon(): AeadAddon {
  const start = dirname(fileURLToPath(import.meta.url));
  const path = findNativeAddon('aead', 'zoo_aead.node', start);
  if (!path) throw new Error(`AES-GCM addon not found above ${start}: run \`npm run postinstall\``);
  return createRequire(import.meta.url)(path) as AeadAddon;
}

const addon = loadAddon();
const NO_AAD = new Uint8Array();

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
  aad: Uint8Array = NO_AAD,
): Uint8Array {
  check(key, iv);
  return addon.seal(key, iv, plaintext, aad);
}

/** Opens ciphertext || tag; any authentication failure throws `IntegrityError`. */
export function aesGcmOpen(
  key: Uint8Array,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array = NO_AAD,
): Uint8Array {
  check(key, iv);
  if (sealed.length < GCM_TAG_BYTES) throw new IntegrityError('AES-GCM input shorter than its tag');
  // The addon wipes what it decrypted before refusing: unauthenticated plaintext never lingers.
  const plaintext = addon.open(key, iv, sealed, aad);
  if (plaintext === null) throw new IntegrityError('AES-GCM tag mismatch');
  return plaintext;
}
