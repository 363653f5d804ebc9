/**
 * Maps PKCS#11 return values to the three errors the KeyProvider contract allows (provider.ts):
 * the device is gone -> ProviderUnavailableError (the caller fails over); the device refuses this
 * input -> ProviderRefusedError; authentication of a wrapped key or a GCM tag failed ->
 * IntegrityError. Messages carry the CKR name only, never data.
 */
import { IntegrityError, ProviderRefusedError, ProviderUnavailableError } from '../provider.js';
import { CKR } from './constants.js';

/** What the failed call was doing: decides how ambiguous codes such as CKR_GENERAL_ERROR read. */
export type Pkcs11Step = 'unwrap' | 'decrypt' | 'other';

/** The session or login is gone: drop the connection and reconnect on the next call. */
const CONNECTION_LOST: ReadonlySet<number> = new Set([
  CKR.DEVICE_REMOVED,
  CKR.TOKEN_NOT_PRESENT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.SESSION_HANDLE_INVALID,
  CKR.SESSION_CLOSED,
  CKR.USER_NOT_LOGGED_IN,
  CKR.CRYPTOKI_NOT_INITIALIZED,
  CKR.KEY_HANDLE_INVALID,
  CKR.OBJECT_HANDLE_INVALID,
  CKR.WRAPPING_KEY_HANDLE_INVALID,
]);

const UNAVAILABLE: ReadonlySet<number> = new Set([
  ...CONNECTION_LOST,
  CKR.DEVICE_ERROR,
  CKR.DEVICE_MEMORY,
]);

const REFUSED: ReadonlySet<number> = new Set([
  CKR.KEY_SIZE_RANGE,
  CKR.KEY_TYPE_INCONSISTENT,
  CKR.KEY_FUNCTION_NOT_PERMITTED,
  CKR.KEY_NOT_WRAPPABLE,
  CKR.KEY_UNEXTRACTABLE,
  CKR.MECHANISM_INVALID,
  CKR.MECHANISM_PARAM_INVALID,
  CKR.TEMPLATE_INCOMPLETE,
  CKR.TEMPLATE_INCONSISTENT,
  CKR.ATTRIBUTE_VALUE_INVALID,
  CKR.DATA_INVALID,
  CKR.DATA_LEN_RANGE,
]);

/**
 * A failed RFC 5649 check or GCM tag. SoftHSM2 2.6.1 answers both with CKR_GENERAL_ERROR
 * (measurements.md "Pitfalls seen", and a tampered KWP blob measured here).
 */
const AUTH_FAILED: ReadonlySet<number> = new Set([
  CKR.GENERAL_ERROR,
  CKR.ENCRYPTED_DATA_INVALID,
  CKR.ENCRYPTED_DATA_LEN_RANGE,
  CKR.WRAPPED_KEY_INVALID,
  CKR.WRAPPED_KEY_LEN_RANGE,
]);

const NAMES = new Map<number, string>(Object.entries(CKR).map(([k, v]) => [v, `CKR_${k}`]));

/**
 * The CKR_* value of a pkcs11js error, or undefined for anything else (e.g. a failed dlopen).
 * pkcs11js 2.1.7 overrides C_CreateObject, C_CopyObject and C_SetAttributeValue without its error
 * wrapper, so those throw a plain Error whose message is `CKR_NAME:value` (decimal) and no `code`
 * (measured here: a closed session answered "CKR_SESSION_HANDLE_INVALID:179", 179 = 0xB3).
 */
export function ckrOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code !== 0) return code;
  const m = /^CKR_[A-Z0-9_]+:(\d+)$/.exec(String((e as { message?: unknown } | null)?.message));
  if (m) return Number(m[1]);
  return typeof code === 'number' ? code : undefined;
}

export function ckrName(code: number): string {
  return NAMES.get(code) ?? `CKR 0x${code.toString(16)}`;
}

export function isConnectionLost(e: unknown): boolean {
  const code = ckrOf(e);
  return code !== undefined && CONNECTION_LOST.has(code);
}

/** Translates `e`, thrown while doing `what`, into a contract error; contract errors pass through. */
export function mapPkcs11Error(
  provider: string,
  what: string,
  e: unknown,
  step: Pkcs11Step = 'other',
): Error {
  if (
    e instanceof ProviderUnavailableError ||
    e instanceof ProviderRefusedError ||
    e instanceof IntegrityError
  ) {
    return e;
  }
  const code = ckrOf(e);
  if (code === undefined)
    return new ProviderUnavailableError(provider, `${what}: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  const detail = `${what}: ${ckrName(code)}`;
  if (step !== 'other' && AUTH_FAILED.has(code)) {
    return new IntegrityError(step === 'unwrap' ? 'unwrap failed' : 'GCM authentication failed', {
      cause: e,
    });
  }
  if (REFUSED.has(code)) return new ProviderRefusedError(provider, detail, { cause: e });
  if (UNAVAILABLE.has(code)) return new ProviderUnavailableError(provider, detail, { cause: e });
  // An answer we do not expect from a healthy device: treat it as a failing device so the caller fails over.
  return new ProviderUnavailableError(provider, detail, { cause: e });
}
