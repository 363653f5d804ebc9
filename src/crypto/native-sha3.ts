/**
 * OpenSSL's SHA-3 under age-encryption's ML-KEM-768, in the age worker threads.
 *
 * @noble/post-quantum's ML-KEM runs its hashes (SHA3-256, SHA3-512, SHAKE128 to sample the public
 * matrix, SHAKE256 for the noise and the hybrid combiner) on @noble/hashes' pure-JavaScript Keccak
 * permutation: after X25519 went native (native-x25519.ts) that permutation was the largest single
 * cost of an identity request, about 30% of an encryption to an `age1pq1` recipient
 * (docs/performance.md). This source is the module that the age workers' resolution hook
 * (native-hooks.ts) hands to @noble/post-quantum, and only to it, in place of
 * `@noble/hashes/sha3.js`: the same four hash functions over node:crypto's `sha3-256`, `sha3-512`,
 * `shake128` and `shake256`, with the @noble/hashes interface ML-KEM uses (`fn(msg, {dkLen})`,
 * `create().update().digest()`, `xofInto` squeezing an XOF in pieces, `outputLen`, `blockLen`).
 * Everything else the module exports is noble's own.
 *
 * An XOF's squeezed output is read from one native digest of the absorbed state (`Hash#copy` with
 * an `outputLength`), grown by recomputing when a caller squeezes past it: a SHAKE output is a
 * prefix of every longer one, so the bytes are those of a single incremental squeeze. When it
 * loads, the shim checks itself against noble's functions on fixed inputs (one-shot, incremental,
 * XOF squeezed in pieces) and, should any differ, hands out noble's own (and the workers report
 * it). test/crypto/native-sha3.test.ts checks it against noble on random inputs and checks the
 * hybrid KEM it serves against pure noble.
 */

/** The global a worker reads to tell whether the shim is in use. */
export const NATIVE_SHA3_FLAG = 'zoo-kms.native-sha3';

/** ESM source of the replacement `@noble/hashes/sha3.js` (`?real=` names the original). */
export const SHA3_SHIM_SOURCE = `
import { createHash } from 'node:crypto';
const real = await import(new URL(import.meta.url).searchParams.get('real'));
const view = (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const FINISHED = 'Hash instance has been destroyed or finished';
class Hasher {
  constructor(algorithm, outputLen, blockLen, xof, dkLen) {
    if (dkLen !== undefined && (!Number.isSafeInteger(dkLen) || dkLen < 0)) throw new Error('invalid dkLen');
    this.outputLen = dkLen ?? outputLen;
    this.blockLen = blockLen;
    this.canXof = xof;
    this.h = createHash(algorithm, xof ? { outputLength: this.outputLen } : undefined);
    this.squeezed = undefined;
    this.pos = 0;
    this.finished = false;
    this.destroyed = false;
  }
  update(data) {
    if (this.finished || this.destroyed) throw new Error(FINISHED);
    if (!(data instanceof Uint8Array)) throw new Error('Uint8Array expected');
    this.h.update(data);
    return this;
  }
  digestInto(out) {
    if (this.finished || this.destroyed) throw new Error(FINISHED);
    if (!(out instanceof Uint8Array) || out.length < this.outputLen) throw new Error('digestInto() expects output buffer of length at least ' + this.outputLen);
    this.finished = true;
    const d = this.h.digest();
    out.set(d);
    d.fill(0);
    return out;
  }
  digest() {
    const out = new Uint8Array(this.outputLen);
    this.digestInto(out);
    return out;
  }
  xofInto(out) {
    if (!this.canXof) throw new Error('XOF is not possible for this instance');
    if (this.destroyed) throw new Error(FINISHED);
    if (!(out instanceof Uint8Array)) throw new Error('Uint8Array expected');
    const end = this.pos + out.length;
    if (!this.squeezed || this.squeezed.length < end) {
      const length = Math.max(end, 4 * this.blockLen, 2 * (this.squeezed ? this.squeezed.length : 0));
      if (this.squeezed) this.squeezed.fill(0);
      this.squeezed = view(this.h.copy({ outputLength: length }).digest());
    }
    out.set(this.squeezed.subarray(this.pos, end));
    this.pos = end;
    this.finished = true;
    return out;
  }
  xof(bytes) {
    return this.xofInto(new Uint8Array(bytes));
  }
  destroy() {
    this.destroyed = true;
    if (this.squeezed) this.squeezed.fill(0);
    this.squeezed = undefined;
  }
}
function hasher(algorithm, js, xof) {
  const create = (opts) => new Hasher(algorithm, js.outputLen, js.blockLen, xof, opts ? opts.dkLen : undefined);
  const fn = (msg, opts) => create(opts).update(msg).digest();
  return Object.assign(fn, { outputLen: js.outputLen, blockLen: js.blockLen, create });
}
const native = {
  sha3_256: hasher('sha3-256', real.sha3_256, false),
  sha3_512: hasher('sha3-512', real.sha3_512, false),
  shake128: hasher('shake128', real.shake128, true),
  shake256: hasher('shake256', real.shake256, true),
};
// The same answers as noble's on fixed inputs, one-shot, incremental and squeezed in uneven
// pieces past the first native digest; otherwise noble's own functions are handed out.
function agrees() {
  const hex = (b) => Buffer.from(b).toString('hex');
  const input = Uint8Array.from({ length: 337 }, (_, i) => (i * 151 + 7) & 255);
  const parts = (h) => h.create().update(input.subarray(0, 100)).update(input.subarray(100)).digest();
  const squeeze = (h) => {
    const x = h.create({}).update(input.subarray(0, 34));
    return [1, 167, 168, 500, 3].map((n) => hex(x.xofInto(new Uint8Array(n)))).join('.');
  };
  try {
    for (const name of ['sha3_256', 'sha3_512', 'shake128', 'shake256']) {
      const [n, j] = [native[name], real[name]];
      if (n.outputLen !== j.outputLen || n.blockLen !== j.blockLen) return false;
      if (hex(n(input)) !== hex(j(input)) || hex(parts(n)) !== hex(parts(j))) return false;
      if (name.startsWith('shake')) {
        if (hex(n(input, { dkLen: 1000 })) !== hex(j(input, { dkLen: 1000 }))) return false;
        if (squeeze(n) !== squeeze(j)) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}
const ok = agrees();
globalThis[Symbol.for(${JSON.stringify(NATIVE_SHA3_FLAG)})] = ok;
export const { Keccak, keccakP, keccak_224, keccak_256, keccak_384, keccak_512, sha3_224, sha3_384, shake128_32, shake256_64 } = real;
export const sha3_256 = ok ? native.sha3_256 : real.sha3_256;
export const sha3_512 = ok ? native.sha3_512 : real.sha3_512;
export const shake128 = ok ? native.shake128 : real.shake128;
export const shake256 = ok ? native.shake256 : real.shake256;
`;
