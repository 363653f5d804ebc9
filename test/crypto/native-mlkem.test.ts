/**
 * The native ML-KEM-768 given to age-encryption's hybrid KEM (src/crypto/native-mlkem.ts over
 * native/mlkem/mlkem.c). Like the other shims it runs where it runs in production, in plain Node
 * workers, wrapping the very ml-kem.js @noble/post-quantum imports. It must give noble's bytes
 * (FIPS 203: age's noble 0.5.4 and the top-level 0.7.1) for keys, ciphertexts, shared secrets and
 * implicit rejections; refuse what noble refuses, with noble's messages, plus FIPS 203's modulus
 * check that 0.5.4 lacks; and the age workers must use it, for files pure-JavaScript age opens.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Decrypter, armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { bech32 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { ageWorkersNativeCrypto, encryptArmored } from '../../src/crypto/age-identity.js';
import { NATIVE_HOOKS_URL, type NativeHooksData } from '../../src/crypto/native-hooks.js';
import { findMlkemAddon, MLKEM_SHIM_SOURCE } from '../../src/crypto/native-mlkem.js';
import {
  ALL_NATIVE,
  ageHybridUrl,
  expectHybridLikePureNoble,
  inWorker,
  shimUrl,
} from './age-noble.js';
import { ageFile, cctvAgeVectors } from './cctv-age.js';

interface Addon {
  keygen(coins: unknown): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(pk: unknown, m: unknown): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(ct: unknown, sk: unknown): Uint8Array;
}

const addonPath = findMlkemAddon();
if (!addonPath) throw new Error('zoo_mlkem.node is not built: run `npm run postinstall`');
const addon = createRequire(import.meta.url)(addonPath) as Addon;
const hooks: NativeHooksData = { mlkemAddon: addonPath };

/** age's ml-kem.js (noble 0.5.4) and the top-level one (0.7.1). */
const ageMlKem = new URL('ml-kem.js', ageHybridUrl()).href;
const topMlKem = pathToFileURL(
  createRequire(import.meta.url).resolve('@noble/post-quantum/ml-kem.js'),
).href;

/** One call: `fn` with hex arguments (null: left out, for the default), maybe retyped. */
interface Call {
  fn: 'keygen' | 'encapsulate' | 'decapsulate' | 'full';
  args: (string | null)[];
  /** Pass the arguments as Uint16Array or plain arrays instead of Uint8Array. */
  as?: 'u16' | 'array';
  /** For `full`: the byte and bit of the ciphertext to flip for the rejection. */
  flip?: [number, number];
}
type Lib = 'native' | 'fallback' | 'age' | 'top';

/**
 * Every call through four ML-KEM-768s in one worker: the shim with the addon (`native`), the shim
 * without it (`fallback`: noble with the modulus check), age's noble and the top-level noble.
 * Each answer is hex joined by `|`, or `throws: <message>`. `full` is keygen, encapsulation,
 * decapsulation and the decapsulation of the ciphertext with one bit flipped.
 */
async function callAll(calls: Call[]): Promise<{ out: Record<Lib, string[]>; flags: boolean[] }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const hex = (b) => Buffer.from(b).toString('hex');
    // A view 3 bytes into a larger buffer, so that an argument read from the wrong offset shows.
    const bytes = (h) => { const b = Buffer.from(h, 'hex'); const v = new Uint8Array(b.length + 6); v.set(b, 3); return v.subarray(3, 3 + b.length); };
    const flag = () => globalThis[Symbol.for('zoo-kms.native-mlkem')] === true;
    const retype = (b, as) => as === 'u16' ? new Uint16Array(b.slice().buffer, 0, b.length >> 1) : as === 'array' ? Array.from(b) : b;
    function call(kem, c) {
      const args = c.args.map((a) => (a === null ? undefined : retype(bytes(a), c.as)));
      if (c.fn === 'keygen') { const k = kem.keygen(...args); return hex(k.publicKey) + '|' + hex(k.secretKey); }
      if (c.fn === 'encapsulate') { const e = kem.encapsulate(...args); return hex(e.cipherText) + '|' + hex(e.sharedSecret); }
      if (c.fn === 'decapsulate') return hex(kem.decapsulate(...args));
      const { publicKey, secretKey } = kem.keygen(args[0]);
      const { cipherText, sharedSecret } = kem.encapsulate(publicKey, args[1]);
      const opened = kem.decapsulate(cipherText, secretKey);
      cipherText[c.flip[0]] ^= 1 << c.flip[1];
      return [publicKey, secretKey, cipherText, sharedSecret, opened, kem.decapsulate(cipherText, secretKey)].map(hex).join('|');
    }
    const attempt = (f) => { try { return f(); } catch (e) { return 'throws: ' + e.message; } };
    (async () => {
      const fallback = (await import(workerData.fallbackUrl)).ml_kem768;
      const flags = [flag()];
      const native = (await import(workerData.nativeUrl)).ml_kem768;
      flags.push(flag());
      const libs = { native, fallback, age: (await import(workerData.ageUrl)).ml_kem768, top: (await import(workerData.topUrl)).ml_kem768 };
      const out = {};
      for (const [name, kem] of Object.entries(libs)) out[name] = workerData.calls.map((c) => attempt(() => call(kem, c)));
      parentPort.postMessage({ out, flags });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  const fallbackUrl = shimUrl(MLKEM_SHIM_SOURCE, ageMlKem);
  const nativeUrl = `${fallbackUrl}&addon=${encodeURIComponent(addonPath!)}`;
  return inWorker(source, { fallbackUrl, nativeUrl, ageUrl: ageMlKem, topUrl: topMlKem, calls });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const rand = (n: number) => randomBytes(n).toString('hex');

/** `publicKey` with coefficient `index` (0..767) of t-hat set to `value` (ByteEncode12). */
function withCoefficient(publicKey: Uint8Array, index: number, value: number): Uint8Array {
  const pk = Uint8Array.from(publicKey);
  const at = (index >> 1) * 3;
  if (index % 2 === 0) {
    pk[at] = value & 0xff;
    pk[at + 1] = (pk[at + 1]! & 0xf0) | (value >> 8);
  } else {
    pk[at + 1] = (pk[at + 1]! & 0x0f) | ((value & 0x0f) << 4);
    pk[at + 2] = value >> 4;
  }
  return pk;
}

describe('native ML-KEM-768', () => {
  it('gives noble bytes for keys, ciphertexts, shared secrets and implicit rejections', async () => {
    const calls: Call[] = Array.from({ length: 300 }, () => ({
      fn: 'full',
      args: [rand(64), rand(32)],
      flip: [randomInt(1088), randomInt(8)],
    }));
    calls.push({ fn: 'full', args: ['00'.repeat(64), '00'.repeat(32)], flip: [0, 0] });
    calls.push({ fn: 'full', args: ['ff'.repeat(64), 'ff'.repeat(32)], flip: [1087, 7] });
    const { out, flags } = await callAll(calls);
    expect(flags).toEqual([false, true]);
    expect(out.native).toHaveLength(calls.length);
    for (const [i, native] of out.native.entries()) {
      expect(native, `call ${i}`).toBe(out.age[i]);
      expect(native, `call ${i}`).toBe(out.top[i]);
      expect(out.fallback[i], `call ${i}`).toBe(native);
      const [publicKey, secretKey, cipherText, shared, opened, rejected] = native.split('|');
      expect([publicKey, secretKey, cipherText].map((h) => h!.length / 2)).toEqual([
        1184, 2400, 1088,
      ]);
      expect(opened).toBe(shared);
      expect(rejected).toHaveLength(64);
      expect(rejected).not.toBe(shared);
    }
  });

  it('takes its defaults from noble: a random seed and message that round-trip', async () => {
    const { out } = await callAll([{ fn: 'full', args: [null, null], flip: [0, 0] }]);
    for (const lib of ['native', 'fallback'] as const) {
      const [, , , shared, opened] = out[lib][0]!.split('|');
      expect(shared).toHaveLength(64);
      expect(opened).toBe(shared);
    }
  });

  it("refuses keys failing FIPS 203's modulus check, as noble 0.7 does (0.5.4 lets them through)", async () => {
    const calls: Call[] = [];
    const expected: ('ok' | 'refused')[] = [];
    for (let i = 0; i < 8; i++) {
      const { publicKey } = addon.keygen(randomBytes(64));
      for (const index of [0, 1, 767, randomInt(768)]) {
        for (const value of [3328, 3329, 4095, randomInt(3329, 4096)]) {
          calls.push({
            fn: 'encapsulate',
            args: [hex(withCoefficient(publicKey, index, value)), rand(32)],
          });
          expected.push(value < 3329 ? 'ok' : 'refused');
        }
      }
    }
    const { out } = await callAll(calls);
    const refused = 'throws: ML-KEM.encapsulate: wrong publicKey modulus';
    for (const [i, want] of expected.entries()) {
      if (want === 'ok') {
        expect(out.native[i], `call ${i}`).not.toMatch(/^throws/);
        for (const lib of ['fallback', 'age', 'top'] as const)
          expect(out[lib][i]).toBe(out.native[i]);
      } else {
        for (const lib of ['native', 'fallback', 'top'] as const) expect(out[lib][i]).toBe(refused);
        expect(out.age[i], 'noble 0.5.4 has no effective modulus check').not.toMatch(/^throws/);
      }
    }
    const bad = withCoefficient(addon.keygen(randomBytes(64)).publicKey, 5, 3329);
    expect(() => addon.encapsulate(bad, randomBytes(32))).toThrow(/wrong publicKey modulus/);
  });

  it('refuses wrong lengths and types with noble messages, and checks the secret key hash', async () => {
    const { publicKey, secretKey } = addon.keygen(randomBytes(64));
    const { cipherText } = addon.encapsulate(publicKey, randomBytes(32));
    const [pk, sk, ct] = [hex(publicKey), hex(secretKey), hex(cipherText)];
    const flipped = (at: number) => {
      const b = Uint8Array.from(secretKey);
      b[at]! ^= 0x10;
      return hex(b);
    };
    const calls: Call[] = [
      { fn: 'keygen', args: [rand(63)] },
      { fn: 'keygen', args: [rand(65)] },
      { fn: 'keygen', args: [rand(64)], as: 'u16' },
      { fn: 'keygen', args: [rand(64)], as: 'array' },
      { fn: 'encapsulate', args: [pk.slice(2), rand(32)] },
      { fn: 'encapsulate', args: [pk + '00', rand(32)] },
      { fn: 'encapsulate', args: [pk, rand(31)] },
      { fn: 'encapsulate', args: [pk, rand(33)] },
      { fn: 'encapsulate', args: [pk, rand(32)], as: 'array' },
      { fn: 'decapsulate', args: [ct.slice(2), sk] },
      { fn: 'decapsulate', args: [ct, sk + '00'] },
      { fn: 'decapsulate', args: [ct, sk.slice(2)] },
      { fn: 'decapsulate', args: [ct, sk], as: 'u16' },
    ];
    // FIPS 203 sec. 7.3: a key whose encapsulation key (bytes 1152..2335) or its hash
    // (2336..2367) was changed is refused; a changed s (0..1151) or z (2368..) is not detected.
    const hashChecked = [1152, 2000, 2335, 2336, 2367].map((at) => flipped(at));
    const unchecked = [0, 1151, 2368, 2399].map((at) => flipped(at));
    for (const k of [...hashChecked, ...unchecked])
      calls.push({ fn: 'decapsulate', args: [ct, k] });
    const { out } = await callAll(calls);
    for (const [i, c] of calls.entries()) {
      const refusal = i < calls.length - unchecked.length;
      expect(out.native[i], JSON.stringify(c).slice(0, 80)).toBe(out.age[i]);
      expect(out.fallback[i]).toBe(out.age[i]);
      expect(out.native[i]!.startsWith('throws: '), `call ${i}`).toBe(refusal);
      expect(out.top[i]!.startsWith('throws: '), `call ${i}`).toBe(refusal);
    }
    expect(out.native.slice(-unchecked.length - hashChecked.length, -unchecked.length)).toEqual(
      hashChecked.map(() => 'throws: invalid secretKey: hash check failed'),
    );
  });

  it('has an addon that checks its own arguments with TypeErrors and reads views at their offset', () => {
    const coins = randomBytes(80);
    expect(hex(addon.keygen(coins.subarray(7, 71)).secretKey)).toBe(
      hex(addon.keygen(Uint8Array.from(coins.subarray(7, 71))).secretKey),
    );
    const { publicKey, secretKey } = addon.keygen(randomBytes(64));
    const { cipherText, sharedSecret } = addon.encapsulate(publicKey, randomBytes(32));
    expect(sharedSecret).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(sharedSecret)).toBe(false);
    expect(hex(addon.decapsulate(cipherText, secretKey))).toBe(hex(sharedSecret));
    const wrong: [keyof Addon, unknown[]][] = [
      ['keygen', []],
      ['keygen', [new Uint8Array(63)]],
      ['keygen', [new Uint16Array(32)]],
      ['keygen', ['00'.repeat(64)]],
      ['encapsulate', [publicKey]],
      ['encapsulate', [publicKey.subarray(1), new Uint8Array(32)]],
      ['encapsulate', [publicKey, new Uint8Array(33)]],
      ['decapsulate', [cipherText, secretKey.subarray(1)]],
      ['decapsulate', [cipherText.subarray(1), secretKey]],
      ['decapsulate', [secretKey, cipherText]],
    ];
    for (const [fn, args] of wrong) {
      const f = addon[fn] as (...a: unknown[]) => unknown;
      expect(() => f(...args), `${fn} ${args.length}`).toThrow(TypeError);
    }
  });

  it('makes the hybrid KEM give what pure noble gives for the same seeds and randomness', () =>
    expectHybridLikePureNoble(hooks, 16, { x25519: true, sha3: true, mlkem: true }));

  it('opens every CCTV hybrid age vector as pure-JavaScript age does', async () => {
    const vectors = cctvAgeVectors().filter((v) => v.name.includes('hybrid'));
    expect(vectors.length).toBeGreaterThanOrEqual(18);
    const files = vectors.map((v) => ({
      identities: v.headers.get('identity')!,
      file: Buffer.from(ageFile(v)).toString('base64'),
    }));
    const [hooked, pure] = await Promise.all([
      decryptAll(hooks, files),
      decryptAll(undefined, files),
    ]);
    expect(hooked.mlkem).toBe(true);
    expect(hooked.results).toEqual(pure.results);
    for (const [i, v] of vectors.entries()) {
      const expect_ = v.headers.get('expect')![0];
      const result = hooked.results[i]!;
      if (expect_ === 'success')
        expect(result, v.name).toBe(`payload ${v.headers.get('payload')![0]}`);
      else expect(result, v.name).toMatch(/^throws/);
    }
    // The vector whose ML-KEM ciphertext is corrupted fails by implicit rejection, not by a throw
    // of the KEM: the stanza just does not open.
    const corrupted = vectors.findIndex((v) => v.name === 'hybrid_currupted_enc_mlkem');
    expect(hooked.results[corrupted]).toMatch(/no identity matched/i);
  });

  it('is what the age workers encrypt with, to files pure-JavaScript age opens', async () => {
    expect(await ageWorkersNativeCrypto()).toEqual(ALL_NATIVE);
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    for (let i = 0; i < 20; i++) {
      const plaintext = randomBytes(randomInt(1, 200));
      const armored = await encryptArmored('wrapTo', recipient, plaintext);
      const d = new Decrypter();
      d.addIdentity(identity);
      expect(Buffer.from(await d.decrypt(armor.decode(armored)))).toEqual(plaintext);
    }
  });

  it('makes the age workers refuse a recipient failing the modulus check, with 400', async () => {
    const recipient = await identityToRecipient(await generateHybridIdentity());
    const { prefix, words } = bech32.decode(recipient as `${string}1${string}`, false);
    const key = bech32.fromWords(words);
    expect(bech32.encode(prefix, bech32.toWords(key), false)).toBe(recipient);
    const bad = withCoefficient(key.subarray(0, 1184), randomInt(768), 3329);
    const badRecipient = bech32.encode(
      prefix,
      bech32.toWords(Uint8Array.from([...bad, ...key.subarray(1184)])),
      false,
    );
    await expect(encryptArmored('wrapTo', badRecipient, new Uint8Array(8))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^wrapTo /) as unknown,
    });
  });
});

/**
 * Decrypts each file with its identities in a worker, through the hook (`hooks`) or pure noble:
 * `payload <sha256>` or `throws: <message>`.
 */
async function decryptAll(
  hooks: NativeHooksData | undefined,
  files: { identities: string[]; file: string }[],
): Promise<{ results: string[]; mlkem: boolean }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    if (workerData.hooks) require('node:module').register(workerData.hooksUrl, { data: workerData.hooks });
    (async () => {
      const { Decrypter } = await import(workerData.ageUrl);
      const results = [];
      for (const f of workerData.files) {
        try {
          const d = new Decrypter();
          for (const id of f.identities) d.addIdentity(id);
          const out = await d.decrypt(Uint8Array.from(Buffer.from(f.file, 'base64')));
          results.push('payload ' + createHash('sha256').update(out).digest('hex'));
        } catch (e) {
          results.push('throws: ' + e.message);
        }
      }
      parentPort.postMessage({ results, mlkem: globalThis[Symbol.for('zoo-kms.native-mlkem')] === true });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  const ageUrl = pathToFileURL(createRequire(import.meta.url).resolve('age-encryption')).href;
  return inWorker(source, { hooks, hooksUrl: NATIVE_HOOKS_URL, ageUrl, files });
}
