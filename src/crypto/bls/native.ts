/**
 * Loads the native BLS12-381 addon (native/bls/zoo_bls.c over blst; docs/bls.md says why), found
 * by walking up from this file (../native-addon.ts).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNativeAddon } from '../native-addon.js';

/** The addon's exports; every byte argument is a Uint8Array. */
export interface BlsAddon {
  /** Compressed G1 (48 bytes); throws on a secret key that is not in 1..r-1. */
  publicKey(sk: Uint8Array): Uint8Array;
  /** Compressed G2 (96 bytes), constant-time multiplication; DST 1..255 bytes. */
  sign(sk: Uint8Array, msg: Uint8Array, dst: Uint8Array): Uint8Array;
  /** 1 valid, 0 invalid, -1 malformed public key(s), -2 malformed signature; n keys: FastAggregateVerify. */
  verify(publicKeys: Uint8Array, msg: Uint8Array, sig: Uint8Array, dst: Uint8Array): number;
  /** Compressed point decodes and lies in the subgroup (the identity included). */
  g1Valid(bytes: Uint8Array): boolean;
  g2Valid(bytes: Uint8Array): boolean;
}

/** The first `native/bls/build/Release/zoo_bls.node` found from `start` upwards. */
export function findAddonPath(start = dirname(fileURLToPath(import.meta.url))): string {
  const found = findNativeAddon('bls', 'zoo_bls.node', start);
  if (found) return found;
  throw new Error(`BLS addon not found above ${start}: run \`npm run postinstall\``);
}

export function loadBlsAddon(path = findAddonPath()): BlsAddon {
  return createRequire(import.meta.url)(path) as BlsAddon;
}
