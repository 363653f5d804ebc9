/**
 * Node's base64 encoder under age-encryption's own base64, in the age worker threads.
 *
 * age-encryption writes a file's header stanzas (the hybrid recipient's 1,120-byte encapsulated
 * key, 48 bytes a line) and its ASCII armor (48 bytes a line) with @scure/base's `base64nopad` and
 * `base64` encoders, in JavaScript: about 3% of an encryption to an `age1pq1` recipient once its
 * cryptography was native (docs/performance.md). This source is the module that the age workers'
 * resolution hook (native-hooks.ts) hands to age-encryption's own code, and only to it, in place
 * of `@scure/base`: every export is @scure/base's own, but for `base64` and `base64nopad`, whose
 * `encode` of a Uint8Array is Buffer's (RFC 4648 section 4, the same alphabet; `base64nopad`
 * without the `=` padding). Their `decode` stays @scure/base's, strict as age needs it (a
 * non-canonical encoding is refused), and anything but a Uint8Array goes to @scure/base (its
 * error). When it loads the module checks itself against @scure/base on every length from 0 to 200
 * and the length of an encapsulated key, and hands out @scure/base's encoders should they differ;
 * the workers report which (`ageWorkersNativeCrypto().base64`). test/crypto/native-base64.test.ts
 * checks it against @scure/base on random inputs.
 */

/** The global a worker reads to tell whether the module uses Buffer's encoder. */
export const NATIVE_BASE64_FLAG = 'zoo-kms.native-base64';

/** ESM source of the replacement `@scure/base` (`?real=` names the original). */
export const BASE64_SHIM_SOURCE = `
const real = await import(new URL(import.meta.url).searchParams.get('real'));
const padded = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
function coder(original, pad) {
  return Object.freeze({
    ...original,
    encode(data) {
      if (!(data instanceof Uint8Array)) return original.encode(data);
      const s = padded(data);
      if (pad) return s;
      const end = s.endsWith('==') ? s.length - 2 : s.endsWith('=') ? s.length - 1 : s.length;
      return s.slice(0, end);
    },
    decode: original.decode,
  });
}
const native = { base64: coder(real.base64, true), base64nopad: coder(real.base64nopad, false) };
function agrees() {
  try {
    // Every length from 0 to 200, and an encapsulated key's.
    const lengths = [...Array.from({ length: 201 }, (_, n) => n), 1120];
    for (const name of ['base64', 'base64nopad']) {
      for (const n of lengths) {
        const b = Uint8Array.from({ length: n }, (_, i) => (i * 89 + n) & 255);
        if (native[name].encode(b) !== real[name].encode(b)) return false;
        if (native[name].encode(b.subarray(1)) !== real[name].encode(b.subarray(1))) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}
const ok = agrees();
globalThis[Symbol.for(${JSON.stringify(NATIVE_BASE64_FLAG)})] = ok;
export const { __TESTS, ascii, base16, base32, base32crockford, base32hex, base32hexnopad, base32nopad, base36, base58, base58check, base58flickr, base58xmr, base58xrp, base64url, base64urlnopad, bech32, bech32m, createBase58check, hex, utf8 } = real;
export const base64 = ok ? native.base64 : real.base64;
export const base64nopad = ok ? native.base64nopad : real.base64nopad;
`;
