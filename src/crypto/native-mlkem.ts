/**
 * PQClean's ML-KEM-768 under age-encryption's hybrid KEM, in the age worker threads.
 *
 * With X25519 and SHA-3 native (native-x25519.ts, native-sha3.ts), @noble/post-quantum's
 * ML-KEM-768 arithmetic in JavaScript (NTT, sampling, encoding) was the largest cost left of an
 * encryption to an `age1pq1` recipient (docs/performance.md). This source is the module that the
 * age workers' resolution hook (native-hooks.ts) hands to @noble/post-quantum, and only to it, in
 * place of its `./ml-kem.js`: an `ml_kem768` whose keygen, encapsulate and decapsulate run our
 * addon (native/mlkem/mlkem.c over PQClean's constant-time C, FIPS 203), with noble's interface,
 * argument checks and defaults (`keygen(seed = randomBytes(64))`,
 * `encapsulate(publicKey, msg = randomBytes(32))`, from noble's own `utils.js`). Its `lengths`,
 * `info` and `getPublicKey` (a slice of the secret key) are noble's; so are ML-KEM-512 and -1024.
 *
 * FIPS 203 (sec. 7.2) refuses an encapsulation key with a coefficient of 3329 or more. noble
 * 0.5's re-encoding check lets any 12-bit value through (0.7 refuses them), so the same check is
 * put in front of noble's encapsulate too: the workers refuse such a recipient, with 400, whether
 * the addon runs or not (`encryptArmored`). When it loads, the shim checks the addon against noble
 * on fixed seeds (key pairs, encapsulation, decapsulation, the implicit rejection of a tampered
 * ciphertext, the secret key's hash check, the modulus refusal) and, should anything differ or the
 * addon not load, hands out noble's own arithmetic (and the workers report it).
 * test/crypto/native-mlkem.test.ts checks it against noble on random seeds, and the hybrid KEM it
 * serves against pure noble and the CCTV age vectors.
 *
 * The hook gives the addon's absolute path as `?addon=` (`findMlkemAddon`), next to `?real=`.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNativeAddon } from './native-addon.js';

/** The global a worker reads to tell whether the shim uses the addon. */
export const NATIVE_MLKEM_FLAG = 'zoo-kms.native-mlkem';

/**
 * The first `native/mlkem/build/Release/zoo_mlkem.node` found from `start` upwards
 * (./native-addon.ts), or undefined when it was not built: the workers then keep noble's ML-KEM
 * and report it.
 */
export function findMlkemAddon(
  start = dirname(fileURLToPath(import.meta.url)),
): string | undefined {
  return findNativeAddon('mlkem', 'zoo_mlkem.node', start);
}

/** ESM source of the replacement `./ml-kem.js` (`?real=` the original, `?addon=` the addon). */
export const MLKEM_SHIM_SOURCE = `
import { createRequire } from 'node:module';
const params = new URL(import.meta.url).searchParams;
const realUrl = params.get('real');
const real = await import(realUrl);
const js = real.ml_kem768;
const L = { publicKey: 1184, secretKey: 2400, cipherText: 1088, seed: 64, msg: 32 };
// ByteDecode12 of t-hat, the key's first 1,152 bytes: every coefficient below q = 3329.
function modulusOk(publicKey) {
  for (let i = 0; i < 1152; i += 3) {
    const a = publicKey[i] | ((publicKey[i + 1] & 15) << 8);
    const b = (publicKey[i + 1] >> 4) | (publicKey[i + 2] << 4);
    if (a >= 3329 || b >= 3329) return false;
  }
  return true;
}
function nobleChecked({ abytes }) {
  return Object.freeze({
    ...js,
    encapsulate(publicKey, msg) {
      abytes(publicKey, L.publicKey, 'publicKey');
      if (msg !== undefined) abytes(msg, L.msg, 'message');
      if (!modulusOk(publicKey)) throw new Error('ML-KEM.encapsulate: wrong publicKey modulus');
      return js.encapsulate(publicKey, msg);
    },
  });
}
function nativeKem(addon, { abytes, randomBytes }) {
  return Object.freeze({
    ...js,
    keygen(seed = randomBytes(L.seed)) {
      abytes(seed, L.seed, 'seed');
      return addon.keygen(seed);
    },
    encapsulate(publicKey, msg = randomBytes(L.msg)) {
      abytes(publicKey, L.publicKey, 'publicKey');
      abytes(msg, L.msg, 'message');
      return addon.encapsulate(publicKey, msg);
    },
    decapsulate(cipherText, secretKey) {
      abytes(secretKey, L.secretKey, 'secretKey');
      abytes(cipherText, L.cipherText, 'cipherText');
      return addon.decapsulate(cipherText, secretKey);
    },
  });
}
// The same answers as noble's on fixed seeds: key pair, encapsulation, decapsulation, the implicit
// rejection of a tampered ciphertext, and the refusals of a secret key failing its hash check and
// of a public key with a coefficient of q.
function agrees(kem, ref) {
  const hex = (b) => Buffer.from(b).toString('hex');
  const fill = (n, k) => Uint8Array.from({ length: n }, (_, i) => (i * k + 11) & 255);
  const refuses = (f) => { try { f(); return false; } catch { return true; } };
  for (const [name, n] of Object.entries(L)) if (js.lengths[name] !== n) return false;
  for (const k of [3, 101, 254]) {
    const [a, b] = [kem.keygen(fill(64, k)), ref.keygen(fill(64, k))];
    if (hex(a.publicKey) !== hex(b.publicKey) || hex(a.secretKey) !== hex(b.secretKey)) return false;
    const [ea, eb] = [kem.encapsulate(a.publicKey, fill(32, k + 1)), ref.encapsulate(b.publicKey, fill(32, k + 1))];
    if (hex(ea.cipherText) !== hex(eb.cipherText) || hex(ea.sharedSecret) !== hex(eb.sharedSecret)) return false;
    if (hex(kem.decapsulate(ea.cipherText, a.secretKey)) !== hex(ea.sharedSecret)) return false;
    const tampered = Uint8Array.from(ea.cipherText);
    tampered[k] ^= 1;
    const rejected = hex(kem.decapsulate(tampered, a.secretKey));
    if (rejected === hex(ea.sharedSecret) || rejected !== hex(ref.decapsulate(tampered, b.secretKey))) return false;
    const badKey = Uint8Array.from(a.secretKey);
    badKey[1152 + k] ^= 1; // the encapsulation key inside it no longer matches its hash
    if (!refuses(() => kem.decapsulate(ea.cipherText, badKey)) || !refuses(() => ref.decapsulate(ea.cipherText, badKey))) return false;
    const over = Uint8Array.from(a.publicKey);
    over[3 * k] = 0x01;
    over[3 * k + 1] = (over[3 * k + 1] & 0xf0) | 0x0d; // the coefficient 2k is 0xd01 = 3329
    if (!refuses(() => kem.encapsulate(over, fill(32, k))) || !refuses(() => ref.encapsulate(over, fill(32, k)))) return false;
  }
  return true;
}
function load() {
  try {
    return createRequire(realUrl)(params.get('addon'));
  } catch {
    return undefined;
  }
}
let ok = false;
let kem = js;
try {
  const utils = await import(new URL('utils.js', realUrl).href);
  const ref = nobleChecked(utils);
  kem = ref;
  const addon = params.get('addon') ? load() : undefined;
  if (addon) {
    const native = nativeKem(addon, utils);
    ok = agrees(native, ref);
    if (ok) kem = native;
  }
} catch {
  ok = false;
}
globalThis[Symbol.for(${JSON.stringify(NATIVE_MLKEM_FLAG)})] = ok;
export const { PARAMS, ml_kem512, ml_kem1024, __tests } = real;
export const ml_kem768 = kem;
`;
