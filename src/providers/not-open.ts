/**
 * The error of a provider used before open() succeeded. It repeats why open() failed, so a health
 * check (and /readyz, GET /v1/providers) keeps naming the missing library, the wrong PIN or the
 * missing root key rather than only "not open".
 */
import { ProviderUnavailableError } from './provider.js';

export function notOpen(provider: string, openError: Error | undefined): ProviderUnavailableError {
  if (openError instanceof ProviderUnavailableError) return openError;
  const why = openError ? `not open: ${openError.message}` : 'not open';
  return new ProviderUnavailableError(provider, why, { cause: openError });
}
