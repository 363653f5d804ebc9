/**
 * The native SHA-3 given to age-encryption's ML-KEM-768 (src/crypto/native-sha3.ts). Like the
 * X25519 shim, it runs where it runs in production, in plain Node workers (vitest's module runner
 * does not load `data:` modules), wrapping the very @noble/hashes module @noble/post-quantum
 * imports. It must give noble's bytes for every way ML-KEM calls it (one-shot, incremental, with a
 * `dkLen`, an XOF squeezed in pieces of any size), and the hybrid KEM it serves must give exactly
 * what pure noble gives for the same seeds and randomness.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ageWorkersNativeCrypto } from '../../src/crypto/age-identity.js';
import { SHA3_SHIM_SOURCE } from '../../src/crypto/native-sha3.js';
import {
  ALL_NATIVE,
  expectHybridLikePureNoble,
  inWorker,
  nobleUrlInAge,
  shimUrl,
} from './age-noble.js';

const WORKER_PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
const hex = (b) => Buffer.from(b).toString('hex');
const bytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const attempt = (f) => { try { return f(); } catch { return 'throws'; } };
`;

interface HashCase {
  fn: 'sha3_256' | 'sha3_512' | 'shake128' | 'shake256';
  message: string;
  /** Split points of the message into update() calls. */
  cuts: number[];
  dkLen?: number;
  /** For an XOF: the sizes of successive xofInto() calls. */
  squeezes?: number[];
}

/** Every case through the shim and through noble, in one worker: [native, noble] per case. */
async function hashBoth(cases: HashCase[]): Promise<{ pairs: [string, string][]; flag: boolean }> {
  const sha3 = nobleUrlInAge('@noble/hashes/sha3.js');
  const source = `${WORKER_PRELUDE}
    (async () => {
      const native = await import(workerData.shimUrl);
      const noble = await import(workerData.realUrl);
      const run = (lib, c) => attempt(() => {
        const f = lib[c.fn];
        const m = bytes(c.message);
        const opts = c.dkLen === undefined ? undefined : { dkLen: c.dkLen };
        const oneShot = hex(f(m, opts));
        const h = f.create(opts ?? {});
        let at = 0;
        for (const cut of [...c.cuts, m.length]) { h.update(m.subarray(at, cut)); at = cut; }
        const out = c.squeezes ? c.squeezes.map((n) => hex(h.xofInto(new Uint8Array(n)))).join('.') : hex(h.digest());
        const after = attempt(() => h.update(m)) === 'throws' ? 'finished' : 'open';
        return [oneShot, out, after, f.outputLen, f.blockLen].join('|');
      });
      const pairs = workerData.cases.map((c) => [run(native, c), run(noble, c)]);
      parentPort.postMessage({ pairs, flag: globalThis[Symbol.for('zoo-kms.native-sha3')] === true });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  return inWorker(source, { shimUrl: shimUrl(SHA3_SHIM_SOURCE, sha3), realUrl: sha3, cases });
}

describe('native SHA-3 for ML-KEM', () => {
  it('gives noble bytes for every function, whole or in updates, with dkLen, squeezed in pieces', async () => {
    const cases: HashCase[] = [];
    // Lengths around every rate (136, 72, 168, 136 bytes) and the 1,184-byte ML-KEM public key.
    const lengths = [0, 1, 31, 32, 33, 34, 71, 72, 73, 135, 136, 137, 167, 168, 169, 337, 1184];
    for (const fn of ['sha3_256', 'sha3_512', 'shake128', 'shake256'] as const) {
      for (const length of [...lengths, ...Array.from({ length: 20 }, () => randomInt(0, 2000))]) {
        const cuts = Array.from({ length: randomInt(0, 4) }, () => randomInt(0, length + 1)).sort(
          (a, b) => a - b,
        );
        const message = randomBytes(length).toString('hex');
        cases.push({ fn, message, cuts });
        if (fn.startsWith('shake')) {
          cases.push({ fn, message, cuts, dkLen: randomInt(0, 700) });
          // ML-KEM squeezes SHAKE128 one 168-byte block at a time; any sizes must agree.
          cases.push({ fn, message, cuts, squeezes: [168, 168, 168, 168, 168, 168, 168] });
          cases.push({
            fn,
            message,
            cuts,
            squeezes: Array.from({ length: randomInt(1, 12) }, () => randomInt(0, 900)),
          });
        }
      }
    }
    const { pairs, flag } = await hashBoth(cases);
    expect(flag).toBe(true);
    expect(pairs).toHaveLength(cases.length);
    for (const [i, [native, noble]] of pairs.entries()) {
      expect(native, JSON.stringify(cases[i]).slice(0, 200)).toBe(noble);
      expect(native).not.toBe('throws');
    }
  });

  // Without the ML-KEM addon's path the hook keeps noble's ML-KEM, whose hashes are the shim's.
  it('makes the hybrid KEM give what pure noble gives for the same seeds and randomness', () =>
    expectHybridLikePureNoble({}, 12, { x25519: true, sha3: true, mlkem: false }));

  it('is what the age workers encrypt with', async () => {
    expect(await ageWorkersNativeCrypto()).toEqual(ALL_NATIVE);
  });
});
