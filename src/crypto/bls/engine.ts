/**
 * The BLS12-381 engine (min-pubkey-size: public keys in G1, signatures in G2). Signing, the hot
 * path of validators, runs in the native addon spread over worker threads (docs/bls.md has the
 * measurements); verification and decoding are synchronous addon calls on the caller's thread.
 * The DST is always an argument: the tag is a per-chain setting (./tags.ts).
 */
import { availableParallelism } from 'node:os';
import { invalid } from '../../errors.js';
import { assertSecretKey } from './keys.js';
import { findAddonPath, loadBlsAddon } from './native.js';
import { WORKER_NICE, WorkerPool } from '../worker-pool.js';

export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;

export interface BlsEngine {
  /** Sign(sk, msg) under `dst` in a worker; the worker receives its own copy of `sk` and wipes it. */
  sign(sk: Uint8Array, msg: Uint8Array, dst: Uint8Array): Promise<Uint8Array>;
  /** SkToPk: compressed G1; throws `invalid('privateKey', ...)` unless sk is in 1..r-1. */
  publicKey(sk: Uint8Array): Uint8Array;
  /**
   * Verify (one key) or FastAggregateVerify (several); false for any malformed key or signature.
   * On a worker thread of its own: a verification costs a pairing and about 0.12 ms per key (10,000
   * keys: over a second), which on the event loop would stall every other request, signing too.
   */
  verify(
    publicKeys: Uint8Array[],
    msg: Uint8Array,
    sig: Uint8Array,
    dst: Uint8Array,
  ): Promise<boolean>;
  /** KeyValidate (draft-irtf-cfrg-bls-signature-05 sec. 2.5): a G1 point other than the identity. */
  isPublicKey(bytes: Uint8Array): boolean;
  /** signature_to_point plus subgroup check (sec. 2.8): any G2 point, the identity included. */
  isSignature(bytes: Uint8Array): boolean;
  /** Returns `bytes` when `isPublicKey`, else throws `invalid(field, ...)`. */
  decodePublicKey(bytes: Uint8Array, field?: string): Uint8Array;
  /** Returns `bytes` when `isSignature`, else throws `invalid(field, ...)`. */
  decodeSignature(bytes: Uint8Array, field?: string): Uint8Array;
  readonly threads: number;
  /** Terminates the workers; signs still in flight are rejected. */
  close(): Promise<void>;
}

export interface BlsEngineOptions {
  /** Signing workers; default `os.availableParallelism()`. */
  threads?: number;
  /** The addon file; default found upwards from this module (./native.ts). */
  addonPath?: string;
}

// CommonJS run by `new Worker(..., {eval: true})`, so it needs no build step and runs the same
// under vitest (TypeScript sources) and from dist/. A message carries the signs queued in one turn
// of the caller's event loop (`items`) and is answered once, with an outcome per sign; each secret
// copy is wiped whatever happens.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
parentPort.on('message', (m) => {
  if (m.verify) {
    const v = m.verify;
    parentPort.postMessage({ id: m.id, ok: true, value: addon.verify(v.pks, v.msg, v.sig, v.dst) === 1 });
    return;
  }
  const value = m.items.map((it) => {
    try {
      return { ok: true, value: addon.sign(it.sk, it.msg, it.dst) };
    } catch (e) {
      return { ok: false, error: String(e && e.message) };
    } finally {
      it.sk.fill(0);
    }
  });
  parentPort.postMessage({ id: m.id, ok: true, value });
});
`;

/** The verifying worker's nice value: below the signing workers (WORKER_NICE). */
const VERIFY_NICE = 15;

/** Most signs in one message to a worker: its answer waits for all of them (~0.3 ms each). */
const MAX_BATCH = 8;

interface Queued {
  readonly sk: Uint8Array;
  readonly msg: Uint8Array;
  readonly dst: Uint8Array;
  resolve(signature: Uint8Array): void;
  reject(error: Error): void;
}

type Outcome = { ok: true; value: Uint8Array } | { ok: false; error: string };

function assertDst(dst: Uint8Array): void {
  // RFC 9380 sec. 3.1: a DST is 1 to 255 bytes.
  if (dst.length < 1 || dst.length > 255) throw invalid('dst', 'must be 1 to 255 bytes');
}

/**
 * Structured clone copies a view's whole ArrayBuffer, so a subarray of a larger (pooled, or
 * secret-bearing) buffer is copied down to its own bytes before it is posted to a worker. The copy
 * is `new Uint8Array(bytes)`: on a Buffer, `slice()` is a view of the same memory.
 */
function tight(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function createBlsEngine(options: BlsEngineOptions = {}): BlsEngine {
  const addonPath = options.addonPath ?? findAddonPath();
  const addon = loadBlsAddon(addonPath);
  const pool = new WorkerPool({
    threads: options.threads ?? availableParallelism(),
    source: WORKER_SOURCE,
    workerData: { addonPath },
    nice: WORKER_NICE,
  });
  // Verifications have a worker of their own, started on first use: a long aggregate never holds
  // up the signs queued on the signing workers, and, niced below them, it takes the CPU that
  // signing leaves.
  const verifier = new WorkerPool({
    threads: 1,
    source: WORKER_SOURCE,
    workerData: { addonPath },
    nice: VERIFY_NICE,
  });
  // Signs asked for in one turn of the event loop go to the workers together once it ends, in
  // a message per worker (at most MAX_BATCH signs each): one message and one answer per batch
  // instead of per sign, about a tenth of the validator path's main thread (docs/performance.md).
  let queued: Queued[] = [];
  const flush = () => {
    const items = queued;
    queued = [];
    const per = Math.min(MAX_BATCH, Math.ceil(items.length / pool.threads));
    for (let at = 0; at < items.length; at += per) {
      const batch = items.slice(at, at + per);
      pool
        .run<Outcome[]>(
          { items: batch.map(({ sk, msg, dst }) => ({ sk, msg, dst })) },
          batch.map((q) => q.sk.buffer as ArrayBuffer),
        )
        .then(
          (outcomes) =>
            batch.forEach((q, i) => {
              const o = outcomes[i]!;
              if (o.ok)
                q.resolve(new Uint8Array(o.value.buffer, o.value.byteOffset, o.value.byteLength));
              else q.reject(new Error(o.error));
            }),
          (e: Error) => batch.forEach((q) => q.reject(e)),
        );
    }
  };
  const isPublicKey = (b: Uint8Array): boolean =>
    b.length === BLS_PUBLIC_KEY_BYTES && addon.g1Valid(b) && (b[0]! & 0x40) === 0; // 0x40: infinity flag
  const isSignature = (b: Uint8Array): boolean =>
    b.length === BLS_SIGNATURE_BYTES && addon.g2Valid(b);

  return {
    threads: pool.threads,
    async sign(sk, msg, dst) {
      assertSecretKey(sk);
      assertDst(dst);
      // Transferred: the only other copy lives (briefly) in the worker. A real copy even of a
      // Buffer (whose slice() is a view: transferring it would detach the caller's key).
      const copy = new Uint8Array(sk);
      return new Promise<Uint8Array>((resolve, reject) => {
        queued.push({ sk: copy, msg: tight(msg), dst: tight(dst), resolve, reject });
        if (queued.length === 1) setImmediate(flush);
      });
    },
    publicKey(sk) {
      assertSecretKey(sk);
      return Uint8Array.from(addon.publicKey(sk));
    },
    async verify(publicKeys, msg, sig, dst) {
      // Empty key lists and wrong sizes are invalid by the scheme (sec. 3.3.4), not malformed requests.
      if (publicKeys.length === 0 || publicKeys.some((pk) => pk.length !== BLS_PUBLIC_KEY_BYTES))
        return false;
      if (sig.length !== BLS_SIGNATURE_BYTES || dst.length < 1 || dst.length > 255) return false;
      const pks = concat(publicKeys);
      return verifier.run<boolean>(
        { verify: { pks, msg: tight(msg), sig: tight(sig), dst: tight(dst) } },
        [pks.buffer as ArrayBuffer],
      );
    },
    isPublicKey,
    isSignature,
    decodePublicKey(bytes, field = 'publicKey') {
      if (!isPublicKey(bytes)) throw invalid(field, 'must be a compressed BLS12-381 G1 public key');
      return bytes;
    },
    decodeSignature(bytes, field = 'signature') {
      if (!isSignature(bytes)) throw invalid(field, 'must be a compressed BLS12-381 G2 signature');
      return bytes;
    },
    close: async () => {
      await Promise.all([pool.close(), verifier.close()]);
    },
  };
}
