/**
 * Maps Cloud KMS answers (gRPC status codes, google.rpc.Code) to the three errors the KeyProvider
 * contract allows (provider.ts). A ciphertext Cloud KMS cannot decrypt under the root key (tampered,
 * truncated, another key's, another algorithm's AAD) answers INVALID_ARGUMENT: that is an
 * IntegrityError. Everything that says the service, the key or our access to it is not there
 * (UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION
 * for a disabled key version, ...) is ProviderUnavailableError, so the caller fails over.
 */
import { IntegrityError, ProviderRefusedError, ProviderUnavailableError } from '../provider.js';

/** google.rpc.Code names by number. */
const CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
const INVALID_ARGUMENT = 3;

export function grpcCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function codeName(code: number | undefined): string {
  return code === undefined ? 'no status' : (CODES[code] ?? `code ${code}`);
}

/** Translates an error from a call doing `what` ('encrypt' or 'decrypt') into a contract error. */
export function mapGcpError(provider: string, what: 'encrypt' | 'decrypt', e: unknown): Error {
  if (
    e instanceof ProviderUnavailableError ||
    e instanceof ProviderRefusedError ||
    e instanceof IntegrityError
  ) {
    return e;
  }
  const code = grpcCode(e);
  if (code === INVALID_ARGUMENT) {
    if (what === 'decrypt') return new IntegrityError('unwrap failed', { cause: e });
    return new ProviderRefusedError(provider, `${what}: INVALID_ARGUMENT`, { cause: e });
  }
  // The service's message may name the key; it never holds our plaintext.
  const detail = (e as { details?: unknown })?.details ?? (e as Error)?.message ?? String(e);
  return new ProviderUnavailableError(provider, `${what}: ${codeName(code)}: ${String(detail)}`, {
    cause: e,
  });
}
