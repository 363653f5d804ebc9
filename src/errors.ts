/**
 * The one table of error codes (API.md "Conventions", STYLE.md rule 5). Services throw
 * `KmsError`s built from it; the HTTP layer only maps them to `{error: {code, message, requestId}}`.
 * Messages name the offending field and never carry secrets; crypto failures stay deliberately vague.
 */
export const ERRORS = {
  UNAUTHENTICATED: { status: 401, message: 'a valid bearer token is required' },
  FORBIDDEN: { status: 403, message: 'the caller may not use this route or key' },
  NOT_FOUND: { status: 404, message: 'not found' },
  ALREADY_EXISTS: { status: 409, message: 'already exists' },
  INVALID_REQUEST: { status: 400, message: 'invalid request' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  WRONG_PURPOSE: { status: 422, message: 'the key exists but is not for this route' },
  UNSUPPORTED: { status: 422, message: 'the operation is not supported for this key' },
  KEY_DISABLED: { status: 409, message: 'the key is disabled' },
  KEY_VERSION_RETIRED: { status: 409, message: 'the key version is below minDecryptionVersion' },
  KEY_DESTROYED: { status: 410, message: 'the key version was destroyed' },
  DECRYPTION_FAILED: { status: 400, message: 'decryption failed' },
  DOUBLE_SIGN: {
    status: 409,
    message: 'another block was already signed at this height and round',
  },
  HEIGHT_REGRESSION: { status: 409, message: 'height and round are below the watermark' },
  CHAIN_NOT_ALLOWED: { status: 422, message: 'the chain is not allowed' },
  NONCE_REUSED: { status: 409, message: 'the nonce was already used for another message' },
  MESSAGE_EXPIRED: { status: 422, message: 'the message timestamp is too old' },
  TIMESTAMP_IN_FUTURE: { status: 422, message: 'the message timestamp is too far in the future' },
  USER_KEY_DESTROYED: { status: 410, message: "the user's key was destroyed" },
  RATE_LIMITED: { status: 429, message: 'rate limit exceeded' },
  STORE_UNAVAILABLE: { status: 503, message: 'the store is unavailable' },
  PROVIDER_UNAVAILABLE: { status: 503, message: 'no key provider is available' },
  AUDIT_UNAVAILABLE: { status: 503, message: 'the audit log cannot be written' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class KmsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds, for RATE_LIMITED (sent as `retry-after`). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { cause?: unknown; retryAfter?: number } = {},
  ) {
    super(
      message ?? ERRORS[code].message,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'KmsError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfter = opts.retryAfter;
  }
}

/** 400 naming the field: `invalid('payload', 'must be 0x-prefixed lowercase hex')`. */
export function invalid(field: string, problem: string): KmsError {
  return new KmsError('INVALID_REQUEST', `${field} ${problem}`);
}

export function isKmsError(e: unknown): e is KmsError {
  return e instanceof KmsError;
}
