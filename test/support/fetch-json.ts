/**
 * fetch() against a KMS process with a bearer token, JSON in and out, and a deadline: in the fault
 * tests a request that hangs is a broken promise, so it fails as `status: -1` instead of waiting.
 */
export interface JsonReply {
  /** -1: no answer (connection refused or reset, or the deadline passed). */
  readonly status: number;
  readonly body: any;
  readonly headers?: Headers;
  readonly error?: string;
}

export async function fetchJson(
  base: string,
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
  timeoutMs = 20_000,
): Promise<JsonReply> {
  try {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (metrics): keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  } catch (e) {
    return { status: -1, body: undefined, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
