/**
 * The CLI's HTTP client: URL from `--url` or ZKMS_URL (default http://127.0.0.1:8200), token from
 * `--token`, `--token-file`, ZKMS_TOKEN or ZKMS_TOKEN_FILE. API errors become `CliError`s carrying
 * the API's code, so exit codes can mean something.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './command.js';
import { flagValue } from './flags.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Exit codes: 0 ok, 1 API refusal (4xx), 2 usage, 3 unauthenticated/forbidden, 4 server or
 * network, 5 integrity (the audit log does not verify).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, auth: 3, unavailable: 4, integrity: 5 } as const;

export interface ClientOptions {
  readonly url: string;
  readonly token: string | undefined;
}

export function clientOptions(
  flags: Record<string, string | boolean | undefined>,
  env = process.env,
): ClientOptions {
  const value = (name: string) => flagValue(flags, name);
  const url = (value('url') ?? env.ZKMS_URL ?? 'http://127.0.0.1:8200').replace(/\/$/, '');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new UsageError(`--url must be an http:// or https:// URL (got ${url})`);
  const tokenFile = value('token-file') ?? env.ZKMS_TOKEN_FILE;
  let token = value('token') ?? env.ZKMS_TOKEN;
  if (token === undefined && tokenFile) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw new UsageError(`cannot read the token file ${tokenFile}: ${(e as Error).message}`);
    }
  }
  return { url, token };
}

export async function api<T = unknown>(
  o: ClientOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(o.url + path, {
      method,
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new CliError(`cannot reach ${o.url}: ${(e as Error).message}`, EXIT.unavailable);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (res.ok) return json as T;
  const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  const exit =
    res.status === 401 || res.status === 403
      ? EXIT.auth
      : res.status >= 500
        ? EXIT.unavailable
        : EXIT.refused;
  throw new CliError(`${res.status} ${err?.code ?? ''}: ${err?.message ?? text}`, exit, err?.code);
}
