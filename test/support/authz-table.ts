/**
 * API.md "Who may call what" as a table: for every route, the roles named for it and what its
 * scope is checked against (a key name, or `{ecosystem}/{env}/{service}`), with a request that
 * succeeds when the caller may make it. Key names: `in-{kind}` are inside every test principal's
 * scopes (`in-*`), `out-{kind}` outside; `-missing` names do not exist.
 */
import type { Role } from '../../src/services/auth.js';

export type Kind = 'sig' | 'aes' | 'der' | 'val' | 'br';
export type Variant = 'in' | 'out' | 'in-missing' | 'out-missing' | 'none';

export interface Ctx {
  /** The key (or replicate service) name for this variant. */
  readonly name: string;
  /** A fresh value per call (heights, nonces, principal names). */
  readonly n: number;
  readonly aesCiphertext: (name: string) => string;
  readonly experienceCiphertext: string;
  readonly recipient: string;
  readonly blsPublicKey: string;
  /** Admin-made objects a destructive call may consume. */
  freshPrincipal(): Promise<string>;
  freshTokenId(): Promise<string>;
}

export interface Spec {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly roles: readonly Role[] | 'any' | 'public';
  readonly scope?: { readonly kind: Kind } | 'replicate';
  /** Uses a fresh key `{in|out}-fresh-{n}` (the call destroys or changes it), not the fixture. */
  readonly fresh?: boolean;
  readonly path?: (c: Ctx) => Promise<string> | string;
  readonly body?: (c: Ctx) => unknown;
}

const HASH = '0x' + '44'.repeat(32);
const key = (kind: Kind) => ({ kind });
const seconds = () => Math.floor(Date.now() / 1000);
const user = { userId: 'did:lux:122:matrix' };

export const SPECS: readonly Spec[] = [
  { method: 'GET', url: '/healthz', roles: 'public' },
  { method: 'GET', url: '/readyz', roles: 'public' },
  { method: 'GET', url: '/metrics', roles: 'public' },
  { method: 'GET', url: '/.well-known/jwks.json', roles: 'public' },
  { method: 'GET', url: '/openapi.json', roles: 'public' },
  { method: 'GET', url: '/docs', roles: 'public' },
  {
    method: 'POST',
    url: '/v1/verify',
    roles: 'any',
    body: (c) => ({
      algorithm: 'bls12-381',
      publicKey: c.blsPublicKey,
      message: 'aGk=',
      signature: '0x' + 'c0' + '00'.repeat(95),
      dst: 'SIG_NUL',
    }),
  },
  {
    method: 'POST',
    url: '/v1/keys',
    roles: ['admin'],
    body: (c) => ({ name: `mx-new-${c.n}`, algorithm: 'ed25519', purpose: 'signing' }),
  },
  {
    method: 'POST',
    url: '/v1/keys/import',
    roles: ['admin'],
    body: (c) => ({
      name: `mx-imp-${c.n}`,
      algorithm: 'ed25519',
      purpose: 'signing',
      privateKey: '0x' + '07'.repeat(32),
    }),
  },
  { method: 'GET', url: '/v1/keys', roles: 'any' },
  { method: 'GET', url: '/v1/keys/:name', roles: 'any', scope: key('sig') },
  {
    method: 'PATCH',
    url: '/v1/keys/:name',
    roles: ['admin'],
    scope: key('sig'),
    fresh: true,
    body: () => ({ enabled: true }),
  },
  { method: 'DELETE', url: '/v1/keys/:name', roles: ['admin'], scope: key('sig'), fresh: true },
  {
    method: 'DELETE',
    url: '/v1/keys/:name/versions/1',
    roles: ['admin'],
    scope: key('sig'),
    fresh: true,
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/rotate',
    roles: ['admin'],
    scope: key('sig'),
    fresh: true,
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/sign',
    roles: ['signing'],
    scope: key('sig'),
    body: () => ({ message: 'aGk=' }),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/verify',
    roles: ['signing'],
    scope: key('sig'),
    body: () => ({ message: 'aGk=', signature: '0x' + '00'.repeat(64) }),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/encrypt',
    roles: ['encryption'],
    scope: key('aes'),
    body: () => ({ plaintext: 'aGk=' }),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/decrypt',
    roles: ['encryption'],
    scope: key('aes'),
    body: (c) => ({ ciphertext: c.aesCiphertext(c.name) }),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/rewrap',
    roles: ['encryption'],
    scope: key('aes'),
    body: (c) => ({ ciphertext: c.aesCiphertext(c.name) }),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/datakey',
    roles: ['encryption'],
    scope: key('aes'),
    body: () => ({}),
  },
  {
    method: 'POST',
    url: '/v1/keys/:name/derive',
    roles: ['encryption'],
    scope: key('der'),
    body: () => ({ info: 'disk' }),
  },
  {
    method: 'POST',
    url: '/v1/validators/:key/block-signatures',
    roles: ['validator'],
    scope: key('val'),
    body: (c) => ({ chainId: '122', height: String(c.n), round: '0', blockHash: HASH }),
  },
  {
    method: 'POST',
    url: '/v1/validators/:key/proof-of-possession',
    roles: ['validator'],
    scope: key('val'),
    body: () => ({ chainId: '122' }),
  },
  {
    method: 'GET',
    url: '/v1/validators/:key/watermark?chainId=122',
    roles: ['validator'],
    scope: key('val'),
  },
  { method: 'GET', url: '/v1/validators/slashing-protection?chainId=122', roles: ['admin'] },
  {
    method: 'POST',
    url: '/v1/validators/slashing-protection',
    roles: ['admin'],
    body: () => ({
      metadata: { interchange_format_version: 'zoo-kms/1', chainId: '121' },
      data: [],
    }),
  },
  {
    method: 'POST',
    url: '/v1/bridge/:key/signatures',
    roles: ['bridge'],
    scope: key('br'),
    body: (c) => ({
      sourceChainId: '122',
      targetChainId: '120',
      nonce: String(c.n),
      timestamp: String(seconds()),
      payload: '0x01',
    }),
  },
  {
    method: 'POST',
    url: '/v1/bridge/verify',
    roles: 'any',
    body: (c) => ({
      sourceChainId: '122',
      targetChainId: '120',
      nonce: '1',
      timestamp: String(seconds()),
      payload: '0x01',
      publicKey: c.blsPublicKey,
      signature: '0x' + 'c0' + '00'.repeat(95),
    }),
  },
  {
    method: 'POST',
    url: '/v1/experience/encrypt',
    roles: ['experience'],
    body: () => ({ ...user, plaintext: 'aGk=' }),
  },
  {
    method: 'POST',
    url: '/v1/experience/decrypt',
    roles: ['experience'],
    body: (c) => ({ ...user, ciphertext: c.experienceCiphertext }),
  },
  {
    method: 'POST',
    url: '/v1/experience/rewrap',
    roles: ['experience'],
    body: (c) => ({ ...user, ciphertext: c.experienceCiphertext }),
  },
  {
    method: 'POST',
    url: '/v1/experience/encrypt:batch',
    roles: ['experience'],
    body: () => ({ items: [{ ...user, plaintext: 'aGk=' }] }),
  },
  {
    method: 'POST',
    url: '/v1/experience/decrypt:batch',
    roles: ['experience'],
    body: (c) => ({ items: [{ ...user, ciphertext: c.experienceCiphertext }] }),
  },
  { method: 'DELETE', url: '/v1/experience/users/did:lux:122:gone', roles: ['experience'] },
  { method: 'POST', url: '/v1/experience/rotate', roles: ['admin'] },
  {
    method: 'GET',
    url: '/v1/replicate/zoo/:env/svc/recipients',
    roles: ['replicate'],
    scope: 'replicate',
  },
  {
    method: 'POST',
    url: '/v1/replicate/zoo/:env/svc/identity',
    roles: ['replicate'],
    scope: 'replicate',
    body: (c) => ({ wrapTo: c.recipient }),
  },
  { method: 'POST', url: '/v1/replicate/zoo/in/rotate', roles: ['admin'] },
  {
    method: 'POST',
    url: '/v1/principals',
    roles: ['admin'],
    body: (c) => ({ name: `mx-p-${c.n}`, role: 'signing', scopes: [] }),
  },
  { method: 'GET', url: '/v1/principals', roles: ['admin'] },
  {
    method: 'PATCH',
    url: '/v1/principals/:p',
    roles: ['admin'],
    path: (c) => c.freshPrincipal(),
    body: () => ({ scopes: ['x'] }),
  },
  { method: 'DELETE', url: '/v1/principals/:p', roles: ['admin'], path: (c) => c.freshPrincipal() },
  {
    method: 'POST',
    url: '/v1/principals/:p/tokens',
    roles: ['admin'],
    path: (c) => c.freshPrincipal(),
    body: () => ({ ttlSeconds: 60 }),
  },
  {
    method: 'GET',
    url: '/v1/principals/:p/tokens',
    roles: ['admin'],
    path: (c) => c.freshPrincipal(),
  },
  { method: 'DELETE', url: '/v1/tokens/:p', roles: ['admin'], path: (c) => c.freshTokenId() },
  { method: 'GET', url: '/v1/audit/events?limit=5', roles: ['admin'] },
  { method: 'GET', url: '/v1/audit/verify', roles: ['admin'] },
  { method: 'GET', url: '/v1/audit/checkpoint-key', roles: ['admin'] },
  { method: 'GET', url: '/v1/providers', roles: ['admin'] },
];

/** The route a spec exercises, in Fastify's form (for the coverage check against the router). */
export function routeOf(s: Spec): string {
  const url = s.url
    .split('?')[0]!
    .replace('/versions/1', '/versions/:version')
    .replace('/users/did:lux:122:gone', '/users/:userId')
    .replace('/zoo/:env/svc/', '/:ecosystem/:env/:service/')
    .replace('/zoo/in/rotate', '/:ecosystem/:env/rotate')
    .replace('/:p/tokens', '/:name/tokens')
    .replace('/principals/:p', '/principals/:name')
    .replace('/tokens/:p', '/tokens/:tokenId');
  return `${s.method} ${url}`;
}

/** What API.md says `role` (or no token) gets for `spec` with a key of `variant`. */
export function expected(s: Spec, role: Role | 'none', variant: Variant): 'ok' | 401 | 403 | 404 {
  if (s.roles === 'public') return 'ok';
  if (role === 'none') return 401;
  if (role !== 'admin' && s.roles !== 'any' && !s.roles.includes(role)) return 403;
  if (s.url === '/v1/keys/:name' && (role === 'experience' || role === 'replicate')) return 403;
  if (s.scope) {
    if (role !== 'admin' && !variant.startsWith('in')) return 403;
    if (variant.endsWith('missing')) return 404;
  }
  return 'ok';
}

export function variantsOf(s: Spec): Variant[] {
  if (!s.scope) return ['none'];
  return s.scope === 'replicate' ? ['in', 'out'] : ['in', 'out', 'in-missing', 'out-missing'];
}
