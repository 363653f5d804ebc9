/**
 * Shared by the native-shim tests (native-x25519, native-sha3, native-mlkem): where
 * age-encryption's @noble/post-quantum and the modules it imports live, the `data:` URL the
 * resolution hook (src/crypto/native-hooks.ts) gives a shim, a plain Node worker to run them in
 * (vitest's module runner does not load `data:` modules), and the hybrid KEM run in such a worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Decrypter, armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { expect } from 'vitest';
import { encryptArmored, type AgeWorkersNativeCrypto } from '../../src/crypto/age-identity.js';
import { NATIVE_HOOKS_URL, type NativeHooksData } from '../../src/crypto/native-hooks.js';

const hybridPath = () =>
  createRequire(createRequire(import.meta.url).resolve('age-encryption')).resolve(
    '@noble/post-quantum/hybrid.js',
  );

/** The hybrid KEM module age-encryption imports. */
export function ageHybridUrl(): string {
  return pathToFileURL(hybridPath()).href;
}

/** The module `specifier` resolves to from inside age-encryption's @noble/post-quantum. */
export function nobleUrlInAge(specifier: string): string {
  return pathToFileURL(createRequire(hybridPath()).resolve(specifier)).href;
}

/** A shim's `data:` URL wrapping `realUrl`, as the hook builds it. */
export function shimUrl(source: string, realUrl: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}?real=${encodeURIComponent(realUrl)}`;
}

/** Runs `source` (CommonJS; its async body posts one message) in a worker; rejects on `error`. */
export function inWorker<T>(source: string, workerData: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData });
    worker.once('message', (m: { error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m as T);
    });
    worker.once('error', reject);
  });
}

/** Which shims a worker loaded (the flags they set), and what it computed. */
export interface KemRun {
  flags: { x25519: boolean; sha3: boolean; mlkem: boolean };
  outputs: string[];
}

/**
 * For each 128-byte hex seed, deterministically: keygen, encapsulation, decapsulation and the
 * decapsulation of a tampered ciphertext (ML-KEM's implicit rejection), of age's hybrid
 * ML-KEM-768 + X25519 KEM and of its ML-KEM-768 imported directly (by URL, so never shimmed
 * itself), as hex `publicKey|secretKey|cipherText|sharedSecret|opened|rejected`. With `hooks`,
 * the worker registers the native hook first with that data; without, it is pure noble.
 */
export function hybridKem(hooks: NativeHooksData | undefined, seeds: string[]): Promise<KemRun> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const hex = (b) => Buffer.from(b).toString('hex');
    const bytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
    if (workerData.hooksUrl) require('node:module').register(workerData.hooksUrl, { data: workerData.hooks });
    (async () => {
      const { MLKEM768X25519 } = await import(workerData.hybridUrl);
      const { ml_kem768 } = await import(new URL('ml-kem.js', workerData.hybridUrl).href);
      const outputs = [];
      for (const s of workerData.seeds) {
        const seed = bytes(s);
        for (const [k, keySeed] of [[MLKEM768X25519, seed.subarray(0, 32)], [ml_kem768, seed.subarray(0, 64)]]) {
          const { publicKey, secretKey } = k.keygen(keySeed);
          const { cipherText, sharedSecret } = k.encapsulate(publicKey, seed.subarray(64, 128).slice(0, k === ml_kem768 ? 32 : 64));
          const opened = k.decapsulate(cipherText, secretKey);
          cipherText[7] ^= 1;
          const rejected = k.decapsulate(cipherText, secretKey);
          outputs.push([publicKey, secretKey, cipherText, sharedSecret, opened, rejected].map(hex).join('|'));
        }
      }
      const flag = (name) => globalThis[Symbol.for(name)] === true;
      const flags = { x25519: flag('zoo-kms.native-x25519'), sha3: flag('zoo-kms.native-sha3'), mlkem: flag('zoo-kms.native-mlkem') };
      parentPort.postMessage({ outputs, flags });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  return inWorker(source, {
    hooksUrl: hooks ? NATIVE_HOOKS_URL : undefined,
    hooks,
    hybridUrl: ageHybridUrl(),
    seeds,
  });
}

/**
 * The hybrid KEM in a worker with the hook (`hooks`) and in one without give the same keys,
 * ciphertexts and shared secrets for `count` random seeds; the shared secret opened is the one
 * encapsulated, and a tampered ciphertext opens to another. `flags`: what the hooked worker runs on.
 */
export async function expectHybridLikePureNoble(
  hooks: NativeHooksData,
  count: number,
  flags: { x25519: boolean; sha3: boolean; mlkem: boolean },
): Promise<void> {
  const seeds = Array.from({ length: count }, () => randomBytes(128).toString('hex'));
  const [hooked, pure] = await Promise.all([hybridKem(hooks, seeds), hybridKem(undefined, seeds)]);
  expect(hooked.flags).toEqual(flags);
  expect(pure.flags).toEqual({ x25519: false, sha3: false, mlkem: false });
  expect(hooked.outputs).toHaveLength(2 * seeds.length);
  expect(hooked.outputs).toEqual(pure.outputs);
  for (const o of hooked.outputs) {
    const [, , , shared, opened, rejected] = o.split('|');
    expect(opened).toBe(shared);
    expect(rejected).not.toBe(shared);
  }
}

/** A file the age workers encrypt (with every shim in use) decrypts with age-encryption as is. */
export async function expectWorkerFileDecrypts(text: string): Promise<void> {
  const id = await generateHybridIdentity();
  const plaintext = new TextEncoder().encode(text);
  const file = await encryptArmored('wrapTo', await identityToRecipient(id), plaintext);
  const d = new Decrypter();
  d.addIdentity(id);
  expect(await d.decrypt(armor.decode(file), 'text')).toBe(text);
}

/** What the age workers run on when every native replacement loaded (`ageWorkersNativeCrypto`). */
export const ALL_NATIVE: AgeWorkersNativeCrypto = {
  x25519: true,
  sha3: true,
  mlkem: true,
  hmac: true,
  base64: true,
};
