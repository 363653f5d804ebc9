/**
 * Builds one malformed request from a route, its valid template and a seeded generator: the
 * mutation kinds of issue 11 (wrong types, huge numbers, deep JSON, bad hex/base64, points off the
 * curve, bad age recipients, path tricks, oversized headers, bad tokens and content types).
 */
import {
  BAD_BASE64,
  BAD_HEX,
  BAD_JSON_TEXT,
  BAD_POINTS,
  CONTENT_TYPES,
  HOSTILE_KEYS,
  HUGE_NUMBERS,
  PATH_TRICKS,
  WRONG_TYPES,
  badRecipients,
  type Rng,
} from './fuzz-values.js';
import type { Route, Template } from './fuzz-routes.js';

export interface FuzzCase {
  readonly kind: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string;
}

export interface CaseContext {
  readonly tokens: readonly string[];
  readonly admin: string;
  readonly recipient: string;
}

const KINDS = [
  ['param', 14],
  ['query', 6],
  ['field', 36],
  ['drop', 5],
  ['extra', 5],
  ['body', 5],
  ['text', 7],
  ['ctype', 4],
  ['auth', 6],
  ['header', 3],
  ['method', 3],
] as const;

const BODY_KINDS = ['field', 'drop', 'extra', 'body', 'text', 'ctype'];

/**
 * The drawn kind, or, when it has nothing to change on this route (body kinds on a route that reads
 * no body: GET bodies are ignored by HTTP), one that does.
 */
function kindOf(rng: Rng, hasBody: boolean, hasParams: boolean): string {
  let n = rng.int(KINDS.reduce((a, [, w]) => a + w, 0));
  let kind = 'query';
  for (const [k, w] of KINDS) {
    if ((n -= w) < 0) {
      kind = k;
      break;
    }
  }
  if (kind === 'param' && !hasParams) return rng.pick(['query', 'auth', 'header']);
  if (BODY_KINDS.includes(kind) && !hasBody)
    return rng.pick(
      hasParams ? ['query', 'auth', 'header', 'param', 'param'] : ['query', 'auth', 'header'],
    );
  return kind;
}

/** A hostile value chosen by what the field holds (its name), sometimes of any kind. */
function hostileFor(rng: Rng, field: string, ctx: CaseContext): unknown {
  if (rng.chance(0.25)) return rng.pick(WRONG_TYPES);
  if (/wrapTo/.test(field)) return rng.pick(badRecipients(ctx.recipient));
  if (
    /publicKey|pubkey|signature|blockHash|payload|digest|privateKey|mac|signing_root|context$/i.test(
      field,
    )
  )
    return rng.pick([...BAD_HEX, ...BAD_POINTS]);
  if (/plaintext|message|ciphertext/i.test(field)) return rng.pick(BAD_BASE64);
  if (/chainId|height|round|nonce|timestamp|bytes|length|ttl|version|limit|after/i.test(field))
    return rng.pick(HUGE_NUMBERS);
  return rng.pick([...WRONG_TYPES, ...PATH_TRICKS, ...HUGE_NUMBERS]);
}

/** Paths to the leaves of a JSON value: ['data', 0, 'pubkey'] and so on. */
function leaves(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...at, i]));
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
  return at.length ? [at] : [];
}

function setAt(root: Record<string, unknown>, at: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (value === undefined) delete o[last];
  else o[last] = value;
}

function path(route: Route, params: Record<string, string>): string {
  return route.url
    .replace(/:([A-Za-z]+)/g, (_, p: string) => params[p] ?? 'x')
    .replace(/\*$/, params['*'] ?? 'index.html');
}

function paramNames(route: Route): string[] {
  return [...route.url.matchAll(/:([A-Za-z]+)/g)]
    .map((m) => m[1]!)
    .concat(route.url.endsWith('*') ? ['*'] : []);
}

export function makeCase(rng: Rng, route: Route, tpl: Template, ctx: CaseContext): FuzzCase {
  const kind = kindOf(rng, tpl.body !== undefined, paramNames(route).length > 0);
  const params = { ...tpl.params };
  const query: Record<string, string> = { ...tpl.query };
  const body = tpl.body === undefined ? undefined : structuredClone(tpl.body);
  let method = route.method;
  let payload: string | undefined = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${rng.chance(0.8) ? ctx.admin : rng.pick(ctx.tokens)}`,
  };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  switch (kind) {
    case 'param':
      params[rng.pick(paramNames(route))] = rng.pick(PATH_TRICKS);
      break;
    case 'query':
      query[rng.pick(['chainId', 'limit', 'after', 'key', 'principal', 'action', 'x'])] = String(
        rng.pick([...HUGE_NUMBERS, ...BAD_HEX.slice(0, 8), ...PATH_TRICKS]),
      );
      break;
    case 'field':
    case 'drop': {
      const all = body ? leaves(body) : [];
      if (!body || !all.length) {
        payload = rng.pick(BAD_JSON_TEXT);
        headers['content-type'] = 'application/json';
        break;
      }
      const at = rng.pick(all);
      setAt(
        body,
        at,
        kind === 'drop' ? undefined : hostileFor(rng, String(at[at.length - 1]), ctx),
      );
      payload = JSON.stringify(body);
      break;
    }
    case 'extra':
      payload = JSON.stringify(body ?? {})
        .replace(
          /^\{/,
          `{${JSON.stringify(rng.pick(HOSTILE_KEYS))}:${JSON.stringify(rng.pick(WRONG_TYPES))},`,
        )
        .replace(/,\}$/, '}');
      headers['content-type'] = 'application/json';
      break;
    case 'body':
      payload = JSON.stringify(rng.pick(WRONG_TYPES));
      headers['content-type'] = 'application/json';
      break;
    case 'text':
      payload = rng.pick(BAD_JSON_TEXT);
      headers['content-type'] = 'application/json';
      break;
    case 'ctype':
      headers['content-type'] = rng.pick(CONTENT_TYPES);
      payload ??= '{}';
      break;
    case 'auth':
      headers.authorization = rng.pick([
        '',
        'Bearer',
        'Bearer ',
        `Bearer ${ctx.admin}x`,
        `Bearer ${ctx.admin.slice(0, -1)}`,
        `bearer ${ctx.admin}`,
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        `Bearer ${'A'.repeat(100_000)}`,
        `Bearer ${ctx.admin} ${ctx.admin}`,
        'Bearer zkms_' + '\u00e9'.repeat(43),
      ]);
      break;
    case 'header':
      headers[rng.pick(['x-request-id', 'x-fuzz', 'accept', 'x-forwarded-for'])] = rng.pick([
        'A'.repeat(100_000),
        'B'.repeat(1_000_000),
        '../../etc/passwd',
        '%00',
      ]);
      break;
    case 'method':
      method = rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST', 'GET']);
      break;
  }
  const qs = new URLSearchParams(query).toString();
  return {
    kind,
    method,
    url: path(route, params) + (qs ? `?${qs}` : ''),
    headers,
    ...(payload === undefined ? {} : { payload }),
  };
}
