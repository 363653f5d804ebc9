/** What one experience operation produced, for its reply and its audit event. */
import { isKmsError } from '../../errors.js';

export interface Done<T> {
  readonly value: T;
  readonly keyVersion: number;
  readonly generation: number;
  /** Hex SHA-256 of the ciphertext produced (null: use the input's). */
  readonly digest: string | null;
  readonly details?: Readonly<Record<string, number | string>>;
}

export type Settled<T> =
  { readonly ok: true; readonly done: Done<T> } | { readonly ok: false; readonly error: unknown };

/** A batch item's refusal (API.md: `{error: {code, message}}` in place of the result). */
export interface ItemError {
  readonly error: { readonly code: string; readonly message: string };
}

export async function settle<T>(work: () => Promise<Done<T>>): Promise<Settled<T>> {
  try {
    return { ok: true, done: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A refusal as a batch item reports it; an unexpected error says no more than "internal". */
export function itemError(e: unknown): ItemError {
  if (isKmsError(e)) return { error: { code: e.code, message: e.message } };
  return { error: { code: 'INTERNAL', message: 'internal error' } };
}
