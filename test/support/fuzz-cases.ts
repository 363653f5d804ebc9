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

/** The request being built: each mutator changes one part of it. */
interface Draft {
  readonly route: Route;
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
  payload: string | undefined;
  method: string;
}

type Mutator = (d: Draft, rng: Rng, ctx: CaseContext, kind: string) => void;

function asJson(d: Draft, payload: string): void {
  d.payload = payload;
  d.headers['content-type'] = 'application/json';
}

function mutateField(d: Draft, rng: Rng, ctx: CaseContext, kind: string): void {
  const all = d.body ? leaves(d.body) : [];
  if (!d.body || !all.length) return asJson(d, rng.pick(BAD_JSON_TEXT));
  const at = rng.pick(all);
  const value = kind === 'drop' ? undefined : hostileFor(rng, String(at[at.length - 1]), ctx);
  setAt(d.body, at, value);
  d.payload = JSON.stringify(d.body);
}

const BAD_AUTH = (admin: string) => [
  '',
  'Bearer',
  'Bearer ',
  `Bearer ${admin}x`,
  `Bearer ${admin.slice(0, -1)}`,
  `bearer ${admin}`,
  `Basic ${Buffer.from('admin:admin').toString('base64')}`,
  `Bearer ${'A'.repeat(100_000)}`,
  `Bearer ${admin} ${admin}`,
  'Bearer zkms_' + '\u00e9'.repeat(43),
];

const MUTATORS: Record<string, Mutator> = {
  param: (d, rng) => {
    d.params[rng.pick(paramNames(d.route))] = rng.pick(PATH_TRICKS);
  },
  query: (d, rng) => {
    const name = rng.pick(['chainId', 'limit', 'after', 'key', 'principal', 'action', 'x']);
    d.query[name] = String(rng.pick([...HUGE_NUMBERS, ...BAD_HEX.slice(0, 8), ...PATH_TRICKS]));
  },
  field: mutateField,
  drop: mutateField,
  extra: (d, rng) => {
    const field = `${JSON.stringify(rng.pick(HOSTILE_KEYS))}:${JSON.stringify(rng.pick(WRONG_TYPES))}`;
    asJson(
      d,
      JSON.stringify(d.body ?? {})
        .replace(/^\{/, `{${field},`)
        .replace(/,\}$/, '}'),
    );
  },
  body: (d, rng) => asJson(d, JSON.stringify(rng.pick(WRONG_TYPES))),
  text: (d, rng) => asJson(d, rng.pick(BAD_JSON_TEXT)),
  ctype: (d, rng) => {
    d.headers['content-type'] = rng.pick(CONTENT_TYPES);
    d.payload ??= '{}';
  },
  auth: (d, rng, ctx) => {
    d.headers.authorization = rng.pick(BAD_AUTH(ctx.admin));
  },
  header: (d, rng) => {
    const name = rng.pick(['x-request-id', 'x-fuzz', 'accept', 'x-forwarded-for']);
    d.headers[name] = rng.pick([
      'A'.repeat(100_000),
      'B'.repeat(1_000_000),
      '../../etc/passwd',
      '%00',
    ]);
  },
  method: (d, rng) => {
    d.method = rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST', 'GET']);
  },
};

export function makeCase(rng: Rng, route: Route, tpl: Template, ctx: CaseContext): FuzzCase {
  const kind = kindOf(rng, tpl.body !== undefined, paramNames(route).length > 0);
  const body = tpl.body === undefined ? undefined : structuredClone(tpl.body);
  const d: Draft = {
    route,
    params: { ...tpl.params },
    query: { ...tpl.query },
    headers: { authorization: `Bearer ${rng.chance(0.8) ? ctx.admin : rng.pick(ctx.tokens)}` },
    body,
    payload: body === undefined ? undefined : JSON.stringify(body),
    method: route.method,
  };
  if (d.payload !== undefined) d.headers['content-type'] = 'application/json';
  MUTATORS[kind]!(d, rng, ctx, kind);
  const qs = new URLSearchParams(d.query).toString();
  return {
    kind,
    method: d.method,
    url: path(route, d.params) + (qs ? `?${qs}` : ''),
    headers: d.headers,
    ...(d.payload === undefined ? {} : { payload: d.payload }),
  };
}
