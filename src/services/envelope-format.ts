/**
 * The envelope ciphertext format and the encryption-context rule (API.md "Encryption, data keys,
 * derived keys"; docs/envelope.md is the reader's version of this comment). Pure: no I/O.
 *
 * Ciphertext: standard padded base64 of
 *   "ZKE" (0x5a 0x4b 0x45) || format 0x01 || u32be(keyVersion) || iv (12) || ct || tag (16)
 * The key version is named so any version of the key can be chosen for decryption; the key name is
 * not in the ciphertext (the route names the key) but is bound in the associated data:
 *   AAD = "zoo-kms/envelope/v1" || 0x00 || header (the first 8 bytes) || u32be(len(name)) || name
 *         || canonical(context)
 * so a ciphertext opens only under the key and version that made it, with the same context.
 *
 * canonical(context) = u32be(n) || for each entry sorted by the UTF-8 bytes of its key:
 *   u32be(len(k)) || k || u32be(len(v)) || v   (UTF-8). Length prefixes make it injective; sorting
 * makes key order irrelevant (like AWS KMS encryption context). An absent context and `{}` are the
 * same (n = 0).
 */
import { KmsError, invalid } from '../errors.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES } from '../crypto/aead.js';
import { u32be } from '../crypto/encoding.js';

export const MAGIC = Uint8Array.of(0x5a, 0x4b, 0x45);
export const FORMAT_V1 = 0x01;
export const HEADER_BYTES = MAGIC.length + 1 + 4;
const AAD_DOMAIN = new TextEncoder().encode('zoo-kms/envelope/v1\0');
export const MAX_KEY_VERSION = 0xffff_ffff;

/** Limits on `context` (documented in docs/envelope.md). */
export const CONTEXT_LIMITS = { entries: 64, keyChars: 128, valueChars: 1024 } as const;

export interface Envelope {
  readonly keyVersion: number;
  readonly iv: Uint8Array;
  /** ct || tag */
  readonly sealed: Uint8Array;
}

export function headerOf(keyVersion: number): Uint8Array {
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_KEY_VERSION) {
    throw new RangeError('key version out of range');
  }
  return concat([MAGIC, Uint8Array.of(FORMAT_V1), u32be(keyVersion)]);
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  if (e.iv.length !== GCM_IV_BYTES) throw new RangeError('the envelope IV must be 12 bytes');
  if (e.sealed.length < GCM_TAG_BYTES)
    throw new RangeError('the sealed part is shorter than its tag');
  return concat([headerOf(e.keyVersion), e.iv, e.sealed]);
}

/**
 * Parses the bytes of a ciphertext. Anything that is not a v1 envelope answers DECRYPTION_FAILED
 * with no detail (STYLE.md rule 5): a tampered header is just another mismatch.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const min = HEADER_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES;
  if (
    bytes.length < min ||
    !MAGIC.every((b, i) => bytes[i] === b) ||
    bytes[MAGIC.length] !== FORMAT_V1
  ) {
    throw new KmsError('DECRYPTION_FAILED');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyVersion = view.getUint32(MAGIC.length + 1, false);
  if (keyVersion === 0) throw new KmsError('DECRYPTION_FAILED');
  return {
    keyVersion,
    iv: bytes.slice(HEADER_BYTES, HEADER_BYTES + GCM_IV_BYTES),
    sealed: bytes.subarray(HEADER_BYTES + GCM_IV_BYTES),
  };
}

/** The associated data binding the header, the key name and the canonical context. */
export function aadOf(keyName: string, keyVersion: number, context: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode(keyName);
  return concat([AAD_DOMAIN, headerOf(keyVersion), u32be(name.length), name, context]);
}

// A lone surrogate would be encoded as U+FFFD, so two different strings could canonicalise alike.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Checks a request's `context` (a flat object of string values, or undefined) and returns its
 * canonical bytes; a 400 names the offending entry.
 */
export function canonicalContext(context: unknown): Uint8Array {
  if (context === undefined) return u32be(0);
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw invalid('context', 'must be an object of string values');
  }
  const entries = Object.entries(context as Record<string, unknown>);
  if (entries.length > CONTEXT_LIMITS.entries)
    throw invalid('context', `must have at most ${CONTEXT_LIMITS.entries} entries`);
  const encoder = new TextEncoder();
  const pairs = entries.map(([k, v]) => {
    checkEntry(k, v);
    return [encoder.encode(k), encoder.encode(v as string)] as const;
  });
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  return concat([
    u32be(pairs.length),
    ...pairs.flatMap(([k, v]) => [u32be(k.length), k, u32be(v.length), v]),
  ]);
}

function checkEntry(k: string, v: unknown): void {
  if (k.length === 0 || k.length > CONTEXT_LIMITS.keyChars || LONE_SURROGATE.test(k)) {
    throw invalid(
      'context',
      `keys must be 1 to ${CONTEXT_LIMITS.keyChars} characters of well-formed Unicode`,
    );
  }
  const field = `context.${k}`;
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.length > CONTEXT_LIMITS.valueChars)
    throw invalid(field, `must be at most ${CONTEXT_LIMITS.valueChars} characters`);
  if (LONE_SURROGATE.test(v)) throw invalid(field, 'must be well-formed Unicode');
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
