/**
 * The native HMAC-SHA-256 given to age-encryption's own HMAC and HKDF (src/crypto/native-hmac.ts).
 * Like the other shims, it runs where it runs in production, in plain Node workers (vitest's module
 * runner does not load `data:` modules), wrapping the very @noble/hashes modules age-encryption
 * imports. It must give noble's bytes, or noble's refusal, for every call, hand anything but
 * SHA-256 to noble, and give RFC 5869's and Wycheproof's HKDF-SHA-256 outputs.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ageWorkersNativeCrypto } from '../../src/crypto/age-identity.js';
import { HKDF_SHIM_SOURCE, HMAC_SHIM_SOURCE } from '../../src/crypto/native-hmac.js';
import { expectWorkerFileDecrypts, inWorker, shimUrl } from './age-noble.js';
import { readJson, rfc5869Cases, type WycheproofFile } from './vectors.js';

/** The module age-encryption's own code gets for `specifier`. */
const inAge = (specifier: string) =>
  pathToFileURL(
    createRequire(createRequire(import.meta.url).resolve('age-encryption')).resolve(specifier),
  ).href;

/** One call: which function, its hash, its arguments as hex (null: undefined), the length. */
interface Call {
  fn: 'hmac' | 'extract' | 'expand' | 'hkdf';
  hash: 'sha256' | 'sha512' | 'not a hash';
  args: (string | null | number)[];
}

/** Every call through the shims and through noble, in one worker: [native, noble] per call. */
async function callBoth(calls: Call[]): Promise<{ pairs: [string, string][]; flag: boolean }> {
  const [hmacUrl, hkdfUrl] = [inAge('@noble/hashes/hmac.js'), inAge('@noble/hashes/hkdf.js')];
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const hex = (b) => Buffer.from(b).toString('hex');
    const arg = (a) => (a === null ? undefined : typeof a === 'number' ? a : Uint8Array.from(Buffer.from(a, 'hex')));
    (async () => {
      const w = workerData;
      const native = { ...(await import(w.shims[0])), ...(await import(w.shims[1])) };
      const noble = { ...(await import(w.reals[0])), ...(await import(w.reals[1])) };
      const sha2 = await import(new URL('sha2.js', w.reals[0]).href);
      const hashes = { sha256: sha2.sha256, sha512: sha2.sha512, 'not a hash': {} };
      const run = (lib, c) => {
        try {
          return hex(lib[c.fn](hashes[c.hash], ...c.args.map(arg)));
        } catch (e) {
          return 'throws: ' + e.message;
        }
      };
      const pairs = w.calls.map((c) => [run(native, c), run(noble, c)]);
      const native2 = [native.hmac !== noble.hmac, native.hkdf !== noble.hkdf, native._HMAC === noble._HMAC, native.hmac.create === noble.hmac.create];
      if (!native2.every(Boolean)) throw new Error('the shims hand out noble functions: ' + native2);
      parentPort.postMessage({ pairs, flag: globalThis[Symbol.for('zoo-kms.native-hmac')] === true });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  return inWorker(source, {
    shims: [shimUrl(HMAC_SHIM_SOURCE, hmacUrl), shimUrl(HKDF_SHIM_SOURCE, hkdfUrl)],
    reals: [hmacUrl, hkdfUrl],
    calls,
  });
}

const bytes = (n: number) => randomBytes(n).toString('hex');
const maybe = (n: number) => (randomInt(0, 5) === 0 ? null : bytes(n));

describe('native HMAC-SHA-256 for age', () => {
  it('gives noble bytes, or noble refusals, for every call', async () => {
    const calls: Call[] = [];
    // Lengths around the 64-byte block and SHA-256's 55-byte padding edge.
    const lengths = [0, 1, 31, 32, 33, 55, 56, 63, 64, 65, 127, 128, 129, 1500];
    for (const k of lengths)
      for (const m of lengths)
        calls.push({ fn: 'hmac', hash: 'sha256', args: [bytes(k), bytes(m)] });
    for (let i = 0; i < 60; i++) {
      const [k, m] = [randomInt(0, 300), randomInt(0, 3000)];
      calls.push({ fn: 'hmac', hash: 'sha256', args: [bytes(k), bytes(m)] });
      calls.push({ fn: 'extract', hash: 'sha256', args: [bytes(m % 200), maybe(k)] });
      const length = randomInt(0, 1200);
      calls.push({ fn: 'expand', hash: 'sha256', args: [bytes(32), maybe(k), length] });
      calls.push({
        fn: 'hkdf',
        hash: 'sha256',
        args: [bytes(m % 200), maybe(k), maybe(k % 40), length],
      });
    }
    for (const length of [0, 1, 32, 33, 8160])
      calls.push({ fn: 'hkdf', hash: 'sha256', args: [bytes(22), null, null, length] });
    // Refused by noble, so by the shims: too long, not a length, not bytes, not a hash.
    calls.push({ fn: 'expand', hash: 'sha256', args: [bytes(32), null, 8161] });
    calls.push({ fn: 'hkdf', hash: 'sha256', args: [bytes(32), null, null, -1] });
    calls.push({ fn: 'hkdf', hash: 'sha256', args: [bytes(32), null, null, 1.5] });
    calls.push({ fn: 'hmac', hash: 'sha256', args: [bytes(16), 42] });
    calls.push({ fn: 'extract', hash: 'not a hash', args: [bytes(16), null] });
    // Another hash is noble's own.
    calls.push({ fn: 'hmac', hash: 'sha512', args: [bytes(100), bytes(300)] });
    calls.push({ fn: 'hkdf', hash: 'sha512', args: [bytes(30), bytes(10), bytes(5), 200] });
    // The default length (32) when none is given.
    calls.push({ fn: 'expand', hash: 'sha256', args: [bytes(32), bytes(8)] });
    calls.push({ fn: 'hkdf', hash: 'sha256', args: [bytes(32), bytes(8), bytes(8)] });

    const { pairs, flag } = await callBoth(calls);
    expect(flag).toBe(true);
    expect(pairs).toHaveLength(calls.length);
    let refused = 0;
    for (const [i, [native, noble]] of pairs.entries()) {
      expect(native, JSON.stringify(calls[i]).slice(0, 200)).toBe(noble);
      if (noble.startsWith('throws')) refused += 1;
    }
    expect(refused).toBe(5);
  });

  it('gives RFC 5869 and Wycheproof HKDF-SHA-256', async () => {
    const rfc = rfc5869Cases().filter((t) => t.hash === 'SHA-256');
    type Wp = {
      ikm: string;
      salt: string;
      info: string;
      size: number;
      okm: string;
      result: string;
    };
    const wp = readJson<WycheproofFile<object>>(
      'wycheproof',
      'hkdf_sha256_test.json',
    ).testGroups.flatMap((g) => g.tests) as unknown as Wp[];
    const calls: Call[] = [];
    const expected: string[] = [];
    for (const t of rfc) {
      calls.push({ fn: 'extract', hash: 'sha256', args: [t.ikm, t.salt] });
      expected.push(t.prk);
      calls.push({ fn: 'expand', hash: 'sha256', args: [t.prk, t.info, t.L] });
      expected.push(t.okm);
      calls.push({ fn: 'hkdf', hash: 'sha256', args: [t.ikm, t.salt, t.info, t.L] });
      expected.push(t.okm);
    }
    for (const t of wp.filter((t) => t.result === 'valid')) {
      calls.push({ fn: 'hkdf', hash: 'sha256', args: [t.ikm, t.salt, t.info, t.size] });
      expected.push(t.okm);
    }
    expect(rfc).toHaveLength(3);
    expect(expected.length).toBeGreaterThan(50);
    const { pairs } = await callBoth(calls);
    expect(pairs.map(([native]) => native)).toEqual(expected);
  });

  it('is what the age workers encrypt with, and their files decrypt with pure noble', async () => {
    expect((await ageWorkersNativeCrypto()).hmac).toBe(true);
    await expectWorkerFileDecrypts('AGE-SECRET-KEY-PQ-1HMAC');
  });
});
