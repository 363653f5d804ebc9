/**
 * The experience ciphertext (docs/experience.md "Ciphertext format"): a self-describing string
 *
 *   zoo-exp:1:{keyVersion}:{generation}:{base64(iv || ciphertext || tag)}
 *
 * `1` is the format version, `keyVersion` the version of `experience-master`, `generation` the
 * user's salt generation (both decimal, 1 to 2^31-1, no leading zeros), then standard padded
 * base64 (API.md "Conventions") of the 12-byte IV, the AES-256-GCM ciphertext and its 16-byte tag.
 * Parsing is strict (one spelling per ciphertext), so a flipped bit anywhere is caught either here
 * or by the tag. Pure: no I/O.
 */
import { GCM_IV_BYTES, GCM_TAG_BYTES } from '../../crypto/aead.js';
import { assertU32, decodeCanonicalBase64 } from '../../crypto/encoding.js';

export const FORMAT_VERSION = 1;
export const PREFIX = `zoo-exp:${FORMAT_VERSION}:`;
const MAX_INDEX = 0x7fff_ffff;
const INDEX = /^[1-9][0-9]{0,9}$/;
/** The associated data's domain string; it names the format version, so formats cannot mix. */
const AAD_DOMAIN = new TextEncoder().encode(`zoo-kms/experience/v${FORMAT_VERSION}`);

export interface Sealed {
  readonly keyVersion: number;
  readonly generation: number;
  readonly iv: Uint8Array;
  /** AES-GCM ciphertext || 16-byte tag. */
  readonly body: Uint8Array;
}

export function serialize(s: Sealed): string {
  if (!isIndex(s.keyVersion) || !isIndex(s.generation))
    throw new RangeError('key version and generation must be 1 to 2^31-1');
  if (s.iv.length !== GCM_IV_BYTES || s.body.length < GCM_TAG_BYTES)
    throw new RangeError('bad IV or body length');
  const bytes = Buffer.concat([s.iv, s.body]);
  return `${PREFIX}${s.keyVersion}:${s.generation}:${bytes.toString('base64')}`;
}

/** The parts of a well-formed ciphertext, or undefined for anything else (never throws). */
export function parse(text: string): Sealed | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const parts = text.slice(PREFIX.length).split(':');
  if (parts.length !== 3) return undefined;
  const [v, g, b64] = parts as [string, string, string];
  const keyVersion = parseIndex(v);
  const generation = parseIndex(g);
  if (keyVersion === undefined || generation === undefined) return undefined;
  // RFC 4648 sec. 4, padded, canonical (no non-zero pad bits, sec. 3.5).
  const bytes = decodeCanonicalBase64(b64);
  if (bytes === undefined || bytes.length < GCM_IV_BYTES + GCM_TAG_BYTES) return undefined;
  return {
    keyVersion,
    generation,
    iv: bytes.subarray(0, GCM_IV_BYTES),
    body: bytes.subarray(GCM_IV_BYTES),
  };
}

/** The longest ciphertext string a plaintext of `maxPlaintext` bytes can produce. */
export function maxCiphertextLength(maxPlaintext: number): number {
  const bytes = GCM_IV_BYTES + maxPlaintext + GCM_TAG_BYTES;
  return PREFIX.length + 2 * 10 + 2 + 4 * Math.ceil(bytes / 3);
}

/**
 * AES-GCM associated data: `utf8("zoo-kms/experience/v1") || u32be(keyVersion) ||
 * u32be(generation) || u32be(len(userId)) || utf8(userId) || u32be(len(context)) ||
 * utf8(context)`, lengths in bytes. Length prefixes keep (userId, context) pairs from colliding;
 * an absent context is the empty one.
 */
export function associatedData(
  userId: string,
  keyVersion: number,
  generation: number,
  context = '',
): Uint8Array {
  assertU32(keyVersion);
  assertU32(generation);
  // Laid out in one buffer (the parts and a concat were most of this function's cost).
  const userBytes = Buffer.byteLength(userId, 'utf8');
  const ctxBytes = Buffer.byteLength(context, 'utf8');
  const out = Buffer.allocUnsafeSlow(AAD_DOMAIN.length + 16 + userBytes + ctxBytes);
  out.set(AAD_DOMAIN, 0);
  let at = out.writeUInt32BE(keyVersion, AAD_DOMAIN.length);
  at = out.writeUInt32BE(generation, at);
  at = out.writeUInt32BE(userBytes, at);
  at += out.write(userId, at, 'utf8');
  at = out.writeUInt32BE(ctxBytes, at);
  out.write(context, at, 'utf8');
  return out;
}

function isIndex(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_INDEX;
}

function parseIndex(s: string): number | undefined {
  if (!INDEX.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_INDEX ? n : undefined;
}
