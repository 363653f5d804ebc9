/**
 * Checks of experience inputs (API.md "Experience library"): each throws a 400 naming its field,
 * which a batch reports per item (`items[3].userId`).
 */
import { hash } from 'node:crypto';
import { invalid } from '../../errors.js';
import { parseBase64 } from '../../crypto/encoding.js';
import type { User } from './user-keys.js';

/** Printable: letters, marks, digits, punctuation, symbols, spaces; no controls or format chars. */
const USER_ID = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]{1,256}$/u;
const LONE_SURROGATE = /\p{Cs}/u;
export const MAX_CONTEXT_CHARS = 256;

/**
 * `0x`-prefixed hex SHA-256 of the UTF-8 user id: what audit events and the salt table hold
 * instead of the id. Computed once per call or item, for both its checks and its event.
 */
export function userHashHex(id: string): string {
  return `0x${hash('sha256', id)}`;
}

/** `hashHex`: userHashHex(id), when the caller has it already. */
export function checkUser(field: string, id: string, hashHex = userHashHex(id)): User {
  if (!USER_ID.test(id)) throw invalid(field, 'must be 1 to 256 printable characters');
  return { id, hash: Buffer.from(hashHex.slice(2), 'hex'), hashHex };
}

/** The context string ('' when absent: an absent and an empty context are the same). */
export function checkContext(field: string, context: string | undefined): string {
  if (context === undefined) return '';
  if (LONE_SURROGATE.test(context)) throw invalid(field, 'must be well-formed Unicode');
  // Characters are code points, as JSON Schema's maxLength counts them.
  if (context.length > MAX_CONTEXT_CHARS && [...context].length > MAX_CONTEXT_CHARS) {
    throw invalid(field, `must be at most ${MAX_CONTEXT_CHARS} characters`);
  }
  return context;
}

/** Base64 plaintext of at most `max` bytes; the length is checked before decoding. */
export function parsePlaintext(field: string, b64: string, max: number): Uint8Array {
  const tooLarge = () => invalid(field, `must be at most ${max} bytes`);
  if (b64.length > 4 * Math.ceil(max / 3)) throw tooLarge();
  const bytes = parseBase64(field, b64);
  if (bytes.length > max) {
    bytes.fill(0);
    throw tooLarge();
  }
  return bytes;
}
