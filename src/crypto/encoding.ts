/**
 * Strict wire encodings (API.md "Conventions"). Parsers take `unknown` straight from a request
 * body and throw `invalid(field, ...)` (400 naming the field), so a value is either exactly in the
 * documented form or refused: no case folding, no missing prefixes, no loose base64.
 */
import { invalid } from '../errors.js';

const HEX = /^0x(?:[0-9a-f]{2})*$/;
// RFC 4648 sec. 4, padded; the round-trip check below also refuses non-zero pad bits (sec. 3.5).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffff_ffff;

function lengthProblem(bytes: number): string {
  return `must be ${bytes} byte${bytes === 1 ? '' : 's'}`;
}

/** `0x`-prefixed lowercase hex; with `bytes`, exactly that many bytes. */
export function parseHex(field: string, value: unknown, bytes?: number): Uint8Array {
  if (typeof value !== 'string' || !HEX.test(value)) {
    throw invalid(field, 'must be 0x-prefixed lowercase hex');
  }
  const out = Uint8Array.from(Buffer.from(value.slice(2), 'hex'));
  if (bytes !== undefined && out.length !== bytes) throw invalid(field, lengthProblem(bytes));
  return out;
}

/**
 * The bytes of `text` when it is the canonical encoding of them (standard alphabet, padded, zero
 * pad bits), else undefined. Whatever the decoder makes of a malformed string, only a text equal
 * to the re-encoding of its bytes passes, and every such text matches BASE64: the round trip alone
 * decides, so no regex runs on this path (it cost more than the decoding).
 */
export function decodeCanonicalBase64(text: string): Uint8Array | undefined {
  const len = text.length;
  if (len % 4 !== 0) return undefined;
  const pad =
    len === 0 || text.charCodeAt(len - 1) !== 0x3d ? 0 : text.charCodeAt(len - 2) === 0x3d ? 2 : 1;
  const n = (len / 4) * 3 - pad;
  const out = new Uint8Array(n);
  const view = Buffer.from(out.buffer, 0, n);
  if (view.write(text, 'base64') !== n || view.toString('base64') !== text) return undefined;
  return out;
}

/** Standard padded base64 that re-encodes to the same text; with `bytes`, exactly that many. */
export function parseBase64(field: string, value: unknown, bytes?: number): Uint8Array {
  const out = typeof value === 'string' ? decodeCanonicalBase64(value) : undefined;
  if (out === undefined) {
    // Refused either way; the regex only picks the message.
    throw invalid(
      field,
      typeof value === 'string' && BASE64.test(value)
        ? 'must be canonical base64'
        : 'must be standard padded base64',
    );
  }
  if (bytes !== undefined && out.length !== bytes) throw invalid(field, lengthProblem(bytes));
  return out;
}

/**
 * An unsigned integer given as a decimal string, or as a JSON integer up to 2^53-1: a larger JSON
 * number has already lost precision in JSON.parse, so it is refused rather than guessed at.
 */
function parseUnsigned(field: string, value: unknown, max: bigint): bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0)
      throw invalid(field, 'must be a non-negative integer');
    if (!Number.isSafeInteger(value)) throw invalid(field, 'above 2^53-1 must be a decimal string');
    if (BigInt(value) > max) throw invalid(field, `must be at most ${max}`);
    return BigInt(value);
  }
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw invalid(field, 'must be a decimal string or a JSON integer');
  }
  const n = BigInt(value);
  if (n > max) throw invalid(field, `must be at most ${max}`);
  return n;
}

/** 0 .. 2^64-1 (chain ids, heights, nonces, timestamps). */
export function parseU64(field: string, value: unknown): bigint {
  return parseUnsigned(field, value, U64_MAX);
}

/** 0 .. 2^32-1 (rounds). */
export function parseU32(field: string, value: unknown): number {
  return Number(parseUnsigned(field, value, BigInt(U32_MAX)));
}

/**
 * The bytes of `b` in an array of their own, with `b` wiped: for outputs that may be secret (an
 * HMAC that is an HKDF block, a device's decryption), so no unwiped copy is left behind.
 */
export function moveBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  b.fill(0);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return '0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Unpadded base64url (RFC 7515 sec. 2), as JWK members use. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** 64-bit integers go out as decimal strings (API.md "Conventions"). */
export function u64ToString(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError('u64 out of range');
  return value.toString(10);
}

export function u64be(value: bigint): Uint8Array {
  if (value < 0n || value > U64_MAX) throw new RangeError('u64 out of range');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, false);
  return out;
}

/** Throws a RangeError unless `value` is an integer in 0 .. 2^32-1. */
export function assertU32(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX)
    throw new RangeError('u32 out of range');
}

export function u32be(value: number): Uint8Array {
  assertU32(value);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}
