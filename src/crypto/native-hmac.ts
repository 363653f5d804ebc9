/**
 * OpenSSL's HMAC-SHA-256 under age-encryption's own HMAC and HKDF, in the age worker threads.
 *
 * age-encryption computes the header's MAC, the payload key and the hybrid recipient's HPKE key
 * schedule (labeled Extract and Expand) with @noble/hashes' `hmac`, `extract`, `expand` and `hkdf`
 * over its pure-JavaScript SHA-256: about a tenth of an encryption to an `age1pq1` recipient once
 * X25519, SHA-3 and ML-KEM-768 were native (docs/performance.md; an HKDF of 32 bytes costs 16 us
 * there, 5 us over node:crypto). These sources are the modules that the age workers' resolution
 * hook (native-hooks.ts) hands to age-encryption's own code, and only to it, in place of
 * `@noble/hashes/hmac.js` and `@noble/hashes/hkdf.js`: the same functions, computed with
 * node:crypto's `createHmac('sha256', ...)` when the hash given is noble's `sha256` itself and
 * every argument is what noble accepts; anything else (another hash, an argument noble would
 * refuse, an Expand longer than 255 blocks) goes to noble's own function, with noble's errors.
 * `hmac.create` (the incremental HMAC) and `_HMAC` are noble's.
 *
 * HKDF is RFC 5869: Extract is HMAC(salt, IKM), with a missing salt as 32 zero bytes; Expand
 * chains T(i) = HMAC(PRK, T(i-1) | info | i). Intermediate keys are wiped. When it loads, each
 * module checks itself against noble's functions on fixed inputs (key and message lengths around
 * the 64-byte block, a missing salt and info, Expand lengths across block boundaries and at its
 * maximum) and, should any differ, hands out noble's own; the workers report which
 * (`ageWorkersNativeCrypto().hmac`). test/crypto/native-hmac.test.ts checks them against noble on
 * random inputs and against RFC 5869's vectors.
 */

/** The global a worker reads to tell whether both modules use node:crypto. */
export const NATIVE_HMAC_FLAG = 'zoo-kms.native-hmac';

/** What both modules start with: the real module (`?real=`), noble's sha256, native HMAC. */
const PRELUDE = `
import { createHmac } from 'node:crypto';
const realUrl = new URL(import.meta.url).searchParams.get('real');
const real = await import(realUrl);
const { sha256, sha512 } = await import(new URL('sha2.js', realUrl).href);
const u8 = (v) => v instanceof Uint8Array;
function mac(key, ...parts) {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
const hex = (b) => Buffer.from(b).toString('hex');
const filled = (n, k) => Uint8Array.from({ length: n }, (_, i) => (i * k + 13) & 255);
const flag = Symbol.for(${JSON.stringify(NATIVE_HMAC_FLAG)});
// Both modules must agree for the flag to stay true (whichever loads first sets it).
const report = (ok) => { globalThis[flag] = ok && globalThis[flag] !== false; };
`;

/** ESM source of the replacement `@noble/hashes/hmac.js`. */
export const HMAC_SHIM_SOURCE = `${PRELUDE}
function nativeHmac(hash, key, message) {
  if (hash !== sha256 || !u8(key) || !u8(message)) return real.hmac(hash, key, message);
  return mac(key, message);
}
nativeHmac.create = real.hmac.create;
function agrees() {
  try {
    for (const k of [0, 1, 32, 63, 64, 65, 131]) {
      for (const m of [0, 1, 55, 56, 64, 1500]) {
        const [key, msg] = [filled(k, 7), filled(m, 31)];
        if (hex(nativeHmac(sha256, key, msg)) !== hex(real.hmac(sha256, key, msg))) return false;
      }
    }
    // Another hash is noble's.
    return hex(nativeHmac(sha512, filled(3, 1), filled(9, 2))) === hex(real.hmac(sha512, filled(3, 1), filled(9, 2)));
  } catch {
    return false;
  }
}
const ok = agrees();
report(ok);
export const _HMAC = real._HMAC;
export const hmac = ok ? nativeHmac : real.hmac;
`;

/** ESM source of the replacement `@noble/hashes/hkdf.js`. */
export const HKDF_SHIM_SOURCE = `${PRELUDE}
const ZERO_SALT = new Uint8Array(32);
const EMPTY = new Uint8Array(0);
const fast = (hash, ...bytes) => hash === sha256 && bytes.every((b) => b === undefined || u8(b));
const expandable = (length) => Number.isSafeInteger(length) && length >= 0 && length <= 255 * 32;
function extractNative(ikm, salt) {
  return mac(salt === undefined ? ZERO_SALT : salt, ikm);
}
function expandNative(prk, info, length) {
  const okm = new Uint8Array(length);
  const counter = new Uint8Array(1);
  let t = EMPTY;
  for (let i = 0; i * 32 < length; i++) {
    counter[0] = i + 1;
    const next = mac(prk, t, info ?? EMPTY, counter);
    t.fill(0);
    okm.set(next.subarray(0, Math.min(32, length - i * 32)), i * 32);
    t = next;
  }
  t.fill(0);
  return okm;
}
function nativeExtract(hash, ikm, salt) {
  if (!fast(hash, salt) || !u8(ikm)) return real.extract(hash, ikm, salt);
  return extractNative(ikm, salt);
}
function nativeExpand(hash, prk, info, length = 32) {
  if (!fast(hash, info) || !u8(prk) || !expandable(length)) return real.expand(hash, prk, info, length);
  return expandNative(prk, info, length);
}
function nativeHkdf(hash, ikm, salt, info, length = 32) {
  if (!fast(hash, salt, info) || !u8(ikm) || !expandable(length)) return real.hkdf(hash, ikm, salt, info, length);
  const prk = extractNative(ikm, salt);
  try {
    return expandNative(prk, info, length);
  } finally {
    prk.fill(0);
  }
}
function agrees() {
  try {
    for (const salt of [undefined, EMPTY, filled(32, 3), filled(80, 5)]) {
      for (const n of [0, 22, 64, 100]) {
        const ikm = filled(n, 11);
        if (hex(nativeExtract(sha256, ikm, salt)) !== hex(real.extract(sha256, ikm, salt))) return false;
      }
    }
    const prk = filled(32, 17);
    for (const info of [undefined, EMPTY, filled(10, 19), filled(300, 23)]) {
      for (const length of [0, 1, 31, 32, 33, 64, 65, 100, 255 * 32]) {
        if (hex(nativeExpand(sha256, prk, info, length)) !== hex(real.expand(sha256, prk, info, length))) return false;
        const ikm = filled(length % 70, 29);
        if (hex(nativeHkdf(sha256, ikm, info, info, length)) !== hex(real.hkdf(sha256, ikm, info, info, length))) return false;
      }
    }
    if (hex(nativeExpand(sha256, prk)) !== hex(real.expand(sha256, prk))) return false;
    // Another hash is noble's.
    return hex(nativeHkdf(sha512, prk, undefined, undefined, 70)) === hex(real.hkdf(sha512, prk, undefined, undefined, 70));
  } catch {
    return false;
  }
}
const ok = agrees();
report(ok);
const chosen = ok ? { extract: nativeExtract, expand: nativeExpand, hkdf: nativeHkdf } : real;
export const extract = chosen.extract;
export const expand = chosen.expand;
export const hkdf = chosen.hkdf;
`;
