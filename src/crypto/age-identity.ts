/**
 * Native age identities and recipients from 32-byte seeds (API.md "Replicate"; age v1 and its
 * ML-KEM-768 + X25519 hybrid, as age-encryption 0.3 implements them). An identity is the seed
 * bech32-encoded under the HRP `AGE-SECRET-KEY-PQ-` (kind `mlkem768x25519`) or `AGE-SECRET-KEY-`
 * (kind `x25519`), in upper case. It is written by `identityBytes` and parsed with @scure/base's
 * bech32, the codec age-encryption itself uses; both agree with it, so these strings are exactly
 * what its generateHybridIdentity / generateX25519Identity make for the same 32 bytes (tested).
 * Recipients come from age-encryption's `identityToRecipient`;
 * encryption runs on worker threads (`encryptArmored`).
 */
import { bech32 } from '@scure/base';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { identityToRecipient } from 'age-encryption';
import { NATIVE_HOOKS_URL, type NativeHooksData } from './native-hooks.js';
import { findMlkemAddon, NATIVE_MLKEM_FLAG } from './native-mlkem.js';
import { NATIVE_BASE64_FLAG } from './native-base64.js';
import { NATIVE_HMAC_FLAG } from './native-hmac.js';
import { NATIVE_SHA3_FLAG } from './native-sha3.js';
import { NATIVE_X25519_FLAG } from './native-x25519.js';
import { WorkerPool } from './worker-pool.js';
import { invalid } from '../errors.js';

export const AGE_KINDS = ['mlkem768x25519', 'x25519'] as const;
export type AgeKind = (typeof AGE_KINDS)[number];
/** The post-quantum hybrid is the default (HIP-0302: `age1pq1` recipients). */
export const DEFAULT_AGE_KIND: AgeKind = 'mlkem768x25519';

export const AGE_SEED_BYTES = 32;
const HRP: Readonly<Record<AgeKind, string>> = {
  mlkem768x25519: 'AGE-SECRET-KEY-PQ-',
  x25519: 'AGE-SECRET-KEY-',
};
/** A hybrid recipient carries the 1,184-byte ML-KEM-768 key and the 32-byte X25519 point. */
const HYBRID_RECIPIENT_BYTES = 1216;

export function isAgeKind(value: string): value is AgeKind {
  return (AGE_KINDS as readonly string[]).includes(value);
}

/** Bech32's data alphabet (BIP 173), upper case as in an identity, as ASCII codes. */
const IDENTITY_ALPHABET = Uint8Array.from('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', (c) =>
  c.charCodeAt(0),
);
/** BIP 173's checksum generator. */
const BECH32_GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** One step of BIP 173's checksum; the generator is applied by mask, not by branch. */
function polymodStep(chk: number, value: number): number {
  const top = chk >>> 25;
  let next = ((chk & 0x1ffffff) << 5) ^ value;
  for (let i = 0; i < 5; i++) next ^= BECH32_GENERATOR[i]! & -((top >>> i) & 1);
  return next;
}

/**
 * The identity of a seed as ASCII bytes, written without the identity ever being a string: a
 * JavaScript string cannot be wiped and lives until the garbage collector moves it, while these
 * bytes are the caller's to wipe (the replicate service encrypts them and wipes them). Bech32
 * (BIP 173) over the lower-case HRP, upper-cased: what @scure/base's `bech32.encodeFromBytes`
 * gives, upper-cased, and what age-encryption generates (tested).
 */
export function identityBytes(kind: AgeKind, seed: Uint8Array): Uint8Array {
  if (seed.length !== AGE_SEED_BYTES)
    throw new Error(`an age identity seed is ${AGE_SEED_BYTES} bytes`);
  const hrp = HRP[kind];
  const words = new Uint8Array(Math.ceil((AGE_SEED_BYTES * 8) / 5));
  let acc = 0;
  let bits = 0;
  let w = 0;
  for (const byte of seed) {
    acc = ((acc << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words[w++] = (acc >>> bits) & 31;
    }
  }
  if (bits > 0) words[w++] = (acc << (5 - bits)) & 31;
  let chk = 1;
  const lower = hrp.toLowerCase();
  for (let i = 0; i < lower.length; i++) chk = polymodStep(chk, lower.charCodeAt(i) >>> 5);
  chk = polymodStep(chk, 0);
  for (let i = 0; i < lower.length; i++) chk = polymodStep(chk, lower.charCodeAt(i) & 31);
  for (const v of words) chk = polymodStep(chk, v);
  for (let i = 0; i < 6; i++) chk = polymodStep(chk, 0);
  chk ^= 1;
  const out = new Uint8Array(hrp.length + 1 + words.length + 6);
  let at = 0;
  for (let i = 0; i < hrp.length; i++) out[at++] = hrp.charCodeAt(i);
  out[at++] = 0x31; // '1', bech32's separator
  for (const v of words) out[at++] = IDENTITY_ALPHABET[v]!;
  for (let i = 0; i < 6; i++) out[at++] = IDENTITY_ALPHABET[(chk >>> (5 * (5 - i))) & 31]!;
  words.fill(0);
  acc = chk = 0;
  return out;
}

/**
 * The identity string of a seed: `AGE-SECRET-KEY-PQ-1...` or `AGE-SECRET-KEY-1...`, the string of
 * `identityBytes` (for what needs a string: `recipientOf`, tests).
 */
export function encodeIdentity(kind: AgeKind, seed: Uint8Array): string {
  const bytes = identityBytes(kind, seed);
  try {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  } finally {
    bytes.fill(0);
  }
}

/** Parses an identity string back to its kind and seed; throws on anything else. */
export function decodeIdentity(identity: string): { kind: AgeKind; seed: Uint8Array } {
  const kind: AgeKind | undefined = identity.startsWith('AGE-SECRET-KEY-PQ-1')
    ? 'mlkem768x25519'
    : identity.startsWith('AGE-SECRET-KEY-1')
      ? 'x25519'
      : undefined;
  if (!kind) throw new Error('not a native age identity');
  const { prefix, bytes } = bech32.decodeToBytes(identity);
  if (prefix.toUpperCase() !== HRP[kind] || bytes.length !== AGE_SEED_BYTES)
    throw new Error('not a native age identity');
  return { kind, seed: bytes };
}

/** The recipient (`age1pq1...` or `age1...`) of the identity made from `seed`. */
export function recipientOf(kind: AgeKind, seed: Uint8Array): Promise<string> {
  return identityToRecipient(encodeIdentity(kind, seed));
}

const RECIPIENT_PREFIX: Readonly<Record<AgeKind, string>> = {
  mlkem768x25519: 'age1pq',
  x25519: 'age',
};
const RECIPIENT_BYTES: Readonly<Record<AgeKind, number>> = {
  mlkem768x25519: HYBRID_RECIPIENT_BYTES,
  x25519: 32,
};
/** Bech32's data alphabet (BIP 173). */
const BECH32_DATA = /^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/;

/**
 * The kind of a recipient string by its form alone: lower case, its prefix, the length of its
 * key, bech32's alphabet; otherwise 400 naming `field`. Its checksum and key are checked where it
 * is used, by age-encryption's own parsing in the worker (`encryptArmored`, also 400 naming the
 * field): decoding a hybrid recipient's 1,959 characters here as well cost about 70 us of the
 * main thread per identity request, an eighth of its work (docs/performance.md).
 */
export function recipientForm(field: string, recipient: string): AgeKind {
  const kind: AgeKind = recipient.startsWith('age1pq1') ? 'mlkem768x25519' : 'x25519';
  const prefix = RECIPIENT_PREFIX[kind];
  // The prefix, the separator, 5-bit words for the key, and six words of checksum.
  const length = prefix.length + 1 + Math.ceil((RECIPIENT_BYTES[kind] * 8) / 5) + 6;
  if (
    !recipient.startsWith(`${prefix}1`) ||
    recipient.length !== length ||
    !BECH32_DATA.test(recipient.slice(prefix.length + 1))
  )
    throw invalid(field, 'must be an age recipient (age1pq1... or age1...)');
  return kind;
}

// CommonJS run by `new Worker(..., {eval: true})` (no build step, the same under vitest and from
// dist/). It registers the native X25519, SHA-3 and ML-KEM-768 hook (native-hooks.ts, given the
// ML-KEM addon's path) before it imports age-encryption itself (the module found from here,
// `workerData.ageUrl`). An encryption the recipient makes impossible is answered as `refused`, so
// only a crashed worker is an internal error. The plaintext (a transferred copy) is wiped whatever
// happens. `{probe: true}` answers whether the hybrid KEM runs on the native X25519, SHA-3 and
// ML-KEM-768, and age's own HMAC and HKDF and base64 encoding on native code.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  require('node:module').register(workerData.hooksUrl, { data: workerData.hooksData });
} catch {
  // A runtime without module hooks: noble's own (JavaScript) X25519, SHA-3 and ML-KEM; the probe
  // says so.
}
const age = import(workerData.ageUrl);
parentPort.on('message', async (m) => {
  if (m.probe) {
    await age;
    const flag = (name) => globalThis[Symbol.for(name)] === true;
    const value = Object.fromEntries(Object.entries(workerData.flags).map(([k, name]) => [k, flag(name)]));
    parentPort.postMessage({ id: m.id, ok: true, value });
    return;
  }
  try {
    const { Encrypter, armor } = await age;
    let file;
    try {
      const e = new Encrypter();
      e.addRecipient(m.recipient);
      file = await e.encrypt(m.plaintext);
    } catch {
      parentPort.postMessage({ id: m.id, ok: true, value: { refused: true } });
      return;
    }
    parentPort.postMessage({ id: m.id, ok: true, value: { armored: armor.encode(file) } });
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e && e.message) });
  } finally {
    m.plaintext.fill(0);
  }
});
`;

let pool: WorkerPool | undefined;

/**
 * The process's age workers, started on first use (idle workers never keep the process alive).
 * Encrypting to a hybrid recipient costs several hundred microseconds of ML-KEM-768, X25519 (both
 * native) and age's own work (native-hooks.ts), which on the main thread would stall every other
 * request meanwhile.
 */
function agePool(): WorkerPool {
  pool ??= new WorkerPool({
    threads: availableParallelism(),
    source: WORKER_SOURCE,
    workerData: {
      ageUrl: pathToFileURL(createRequire(import.meta.url).resolve('age-encryption')).href,
      hooksUrl: NATIVE_HOOKS_URL,
      hooksData: { mlkemAddon: findMlkemAddon() } satisfies NativeHooksData,
      flags: {
        x25519: NATIVE_X25519_FLAG,
        sha3: NATIVE_SHA3_FLAG,
        mlkem: NATIVE_MLKEM_FLAG,
        hmac: NATIVE_HMAC_FLAG,
        base64: NATIVE_BASE64_FLAG,
      } satisfies Record<keyof AgeWorkersNativeCrypto, string>,
    },
    // At the process's priority, unlike the BLS workers: niced, they made replicate-identity
    // slower (p99 79-90 ms against 47-50 ms at 32 clients, docs/performance.md).
  });
  return pool;
}

/**
 * Encrypts `plaintext` to one recipient as an ASCII-armored age file, on a worker thread; the
 * caller has checked the recipient's form (`recipientForm`). A recipient that does not parse (a
 * wrong checksum) or cannot be encrypted to (a low-order X25519 point, an ML-KEM key failing the
 * FIPS 203 modulus check) is the caller's mistake: 400 naming `field`. `plaintext` is left as it
 * is (the worker wipes its copy).
 */
export async function encryptArmored(
  field: string,
  recipient: string,
  plaintext: Uint8Array,
): Promise<string> {
  // A copy of its own (Buffer#slice would be a view, and transferring it would detach the caller's
  // memory or a shared Buffer pool).
  const copy = new Uint8Array(plaintext);
  const out = await agePool().run<{ armored?: string; refused?: true }>(
    { recipient, plaintext: copy },
    [copy.buffer],
  );
  if (out.armored === undefined)
    throw invalid(field, 'is not an age recipient that can be encrypted to');
  return out.armored;
}

/** Which native primitives the age workers' encryptions run on. */
export interface AgeWorkersNativeCrypto {
  /** node:crypto's X25519 (native-x25519.ts). */
  x25519: boolean;
  /** node:crypto's SHA-3 and SHAKE (native-sha3.ts). */
  sha3: boolean;
  /** The ML-KEM-768 addon over PQClean (native-mlkem.ts). */
  mlkem: boolean;
  /** node:crypto's HMAC-SHA-256 under age's own HMAC and HKDF (native-hmac.ts). */
  hmac: boolean;
  /** Buffer's base64 encoder under age's own (native-base64.ts). */
  base64: boolean;
}

/** Which native primitives the age workers' encryptions run on (asks one worker). */
export function ageWorkersNativeCrypto(): Promise<AgeWorkersNativeCrypto> {
  return agePool().run<AgeWorkersNativeCrypto>({ probe: true });
}
