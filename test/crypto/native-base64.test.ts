/**
 * The base64 encoders given to age-encryption's own code (src/crypto/native-base64.ts). Like the
 * other shims, it runs in a plain Node worker (vitest's module runner does not load `data:`
 * modules), wrapping the very @scure/base module age-encryption imports. Its encoders must give
 * @scure/base's strings, or its errors, for any bytes (views at any offset included), its decoders
 * must be @scure/base's own, and every other export must be @scure/base's.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ageWorkersNativeCrypto } from '../../src/crypto/age-identity.js';
import { BASE64_SHIM_SOURCE } from '../../src/crypto/native-base64.js';
import { expectWorkerFileDecrypts, inWorker, shimUrl } from './age-noble.js';

/** The @scure/base age-encryption's own code imports. */
const scureInAge = () =>
  pathToFileURL(
    createRequire(createRequire(import.meta.url).resolve('age-encryption')).resolve('@scure/base'),
  ).href;

interface Run {
  pairs: [string, string][];
  sameExports: boolean;
  sameDecoders: boolean;
  replaced: string[];
  flag: boolean;
}

/** Each input (hex, and the offset of the view encoded) through the shim and @scure/base. */
function encodeBoth(inputs: { hex: string; offset: number }[], odd: unknown[]): Promise<Run> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const native = await import(workerData.shimUrl);
      const real = await import(workerData.realUrl);
      const attempt = (f) => { try { return f(); } catch (e) { return 'throws: ' + e.message; } };
      const pairs = [];
      for (const name of ['base64', 'base64nopad']) {
        for (const i of workerData.inputs) {
          const b = Uint8Array.from(Buffer.from(i.hex, 'hex')).subarray(i.offset);
          pairs.push([attempt(() => native[name].encode(b)), attempt(() => real[name].encode(b))]);
        }
        for (const o of workerData.odd) pairs.push([attempt(() => native[name].encode(o)), attempt(() => real[name].encode(o))]);
      }
      const names = Object.keys(real).sort();
      const sameExports = JSON.stringify(Object.keys(native).sort()) === JSON.stringify(names);
      const replaced = names.filter((n) => native[n] !== real[n]);
      const sameDecoders = native.base64.decode === real.base64.decode && native.base64nopad.decode === real.base64nopad.decode;
      parentPort.postMessage({ pairs, sameExports, sameDecoders, replaced, flag: globalThis[Symbol.for('zoo-kms.native-base64')] === true });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  const realUrl = scureInAge();
  return inWorker(source, { shimUrl: shimUrl(BASE64_SHIM_SOURCE, realUrl), realUrl, inputs, odd });
}

describe('native base64 for age', () => {
  it('encodes as @scure/base does, refuses what it refuses, and changes nothing else', async () => {
    const inputs: { hex: string; offset: number }[] = [];
    for (let n = 0; n <= 130; n++) inputs.push({ hex: randomBytes(n).toString('hex'), offset: 0 });
    for (let i = 0; i < 100; i++) {
      const n = randomInt(1, 4000);
      inputs.push({ hex: randomBytes(n).toString('hex'), offset: randomInt(0, Math.min(n, 9)) });
    }
    const r = await encodeBoth(inputs, ['text', [1, 2, 3], null]);
    expect(r.flag).toBe(true);
    expect(r.sameExports).toBe(true);
    expect(r.sameDecoders).toBe(true);
    expect(r.replaced).toEqual(['base64', 'base64nopad']);
    expect(r.pairs).toHaveLength(2 * (inputs.length + 3));
    let refused = 0;
    for (const [native, scure] of r.pairs) {
      expect(native).toBe(scure);
      if (scure.startsWith('throws')) refused += 1;
    }
    expect(refused).toBe(6);
  });

  it('is what the age workers encrypt with, and their files decrypt with pure age-encryption', async () => {
    expect((await ageWorkersNativeCrypto()).base64).toBe(true);
    await expectWorkerFileDecrypts('AGE-SECRET-KEY-PQ-1BASE64');
  });
});
