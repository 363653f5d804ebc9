/**
 * Shared by the native-shim tests (native-x25519, native-sha3): where age-encryption's
 * @noble/post-quantum and the modules it imports live, the `data:` URL the resolution hook
 * (src/crypto/native-hooks.ts) gives a shim, and a plain Node worker to run them in (vitest's
 * module runner does not load `data:` modules).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

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
