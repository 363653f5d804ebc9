/**
 * Issue 11, authorization matrix: every role (and no token) x every route x a key inside and
 * outside the caller's scopes, existing and missing, answered exactly as API.md "Who may call
 * what" says (support/authz-table.ts): 401 without a valid token, 403 for a route not named for the
 * role or a key outside its scopes (existing or not: no existence oracle), 404 only for a missing
 * key in scope, and otherwise success (2xx). The table must cover every route of the router.
 * Then: expired and revoked tokens and deleted principals are refused on every route, and a token
 * is looked up by its SHA-256 only (the store never sees the token; the row is then compared with
 * timingSafeEqual, src/services/auth.ts).
 */
import { createHash } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, AuthService, type Role } from '../../src/services/auth.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { routesOf } from '../support/fuzz-routes.js';
import {
  SPECS,
  expected,
  routeOf,
  variantsOf,
  type Ctx,
  type Kind,
  type Spec,
  type Variant,
} from '../support/authz-table.js';

const ALGORITHMS: Record<Kind, [string, string]> = {
  sig: ['ed25519', 'signing'],
  aes: ['aes-256-gcm', 'encryption'],
  der: ['hmac-sha256', 'derivation'],
  val: ['bls12-381', 'validator'],
  br: ['bls12-381', 'bridge'],
};

let t: TestKms;
const tokens = new Map<Role, string>();
const ciphertexts = new Map<string, string>();
let experienceCiphertext: string;
let recipient: string;
let blsPublicKey: string;
let n = 1;

async function adminCall(method: string, url: string, body?: unknown) {
  const r = await t.call(method, url, { ...(body === undefined ? {} : { body }) });
  expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
}

async function createKey(name: string, kind: Kind): Promise<void> {
  const [algorithm, purpose] = ALGORITHMS[kind];
  const key = await adminCall('POST', '/v1/keys', { name, algorithm, purpose });
  if (name === 'in-val') blsPublicKey = key.publicKey;
}

beforeAll(async () => {
  t = await startKms({ tokenLabel: 'authz' });
  for (const kind of Object.keys(ALGORITHMS) as Kind[])
    for (const side of ['in', 'out']) await createKey(`${side}-${kind}`, kind);
  for (const side of ['in', 'out'])
    ciphertexts.set(
      `${side}-aes`,
      (await adminCall('POST', `/v1/keys/${side}-aes/encrypt`, { plaintext: 'aGk=' })).ciphertext,
    );
  for (const role of ROLES) {
    if (role === 'admin') tokens.set(role, t.adminToken);
    else
      tokens.set(
        role,
        await principalToken(
          t,
          `mx-${role}`,
          role,
          role === 'experience' ? [] : role === 'replicate' ? ['zoo/in/*'] : ['in-*'],
        ),
      );
  }
  experienceCiphertext = (
    await adminCall('POST', '/v1/experience/encrypt', {
      userId: 'did:lux:122:matrix',
      plaintext: 'aGk=',
    })
  ).ciphertext;
  recipient = await identityToRecipient(await generateX25519Identity());
}, 120_000);

afterAll(async () => {
  await t?.close();
});

function ctxFor(name: string): Ctx {
  return {
    name,
    n: n++,
    aesCiphertext: (k) => ciphertexts.get(k) ?? ciphertexts.get('in-aes')!,
    experienceCiphertext,
    recipient,
    blsPublicKey,
    freshPrincipal: async () => {
      const p = `mx-fresh-${n++}`;
      await adminCall('POST', '/v1/principals', { name: p, role: 'signing', scopes: [] });
      return p;
    },
    freshTokenId: async () =>
      (await adminCall('POST', '/v1/principals/mx-signing/tokens', {})).tokenId,
  };
}

/** The URL and body of one call of `spec` with a key (or replicate env) of `variant`. */
async function request(spec: Spec, variant: Variant): Promise<{ url: string; body?: unknown }> {
  const kind = spec.scope && spec.scope !== 'replicate' ? spec.scope.kind : undefined;
  let name = variant === 'none' ? '' : `${variant.split('-')[0]}-${kind ?? ''}`;
  if (variant.endsWith('missing')) name = `${variant.split('-')[0]}-nothing-${kind}`;
  if (spec.fresh && !variant.endsWith('missing')) {
    name = `${variant}-fresh-${n++}`;
    await createKey(name, kind!);
  }
  const c = ctxFor(name);
  let url = spec.url.replace(/:name|:key/, name).replace(':env', variant);
  if (spec.path) url = url.replace(':p', await spec.path(c));
  return { url, ...(spec.body ? { body: spec.body(c) } : {}) };
}

function verdict(status: number): 'ok' | number {
  return status >= 200 && status < 300 ? 'ok' : status;
}

describe('authorization matrix', () => {
  it('covers every route of the router', () => {
    const routes = routesOf(t.kms.app)
      .filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs/'))
      .map((r) => `${r.method} ${r.url}`);
    expect([...new Set(SPECS.map(routeOf))].sort()).toEqual([...new Set(routes)].sort());
  });

  it.each([...ROLES, 'none' as const])(
    '%s: every route, in and out of scope',
    async (role) => {
      const wrong: string[] = [];
      for (const spec of SPECS) {
        for (const variant of variantsOf(spec)) {
          const { url, body } = await request(spec, variant);
          const token = role === 'none' ? null : tokens.get(role)!;
          const r = await t.call(spec.method, url, {
            token,
            ...(body === undefined ? {} : { body }),
          });
          const want = expected(spec, role, variant);
          if (verdict(r.status) !== want)
            wrong.push(
              `${spec.method} ${url} (${variant}): ${r.status} ${JSON.stringify(r.body).slice(0, 200)}, want ${want}`,
            );
        }
      }
      expect(wrong).toEqual([]);
    },
    300_000,
  );
});

describe('tokens that no longer count', () => {
  it('refuses expired and revoked tokens and deleted principals on every /v1 route with 401', async () => {
    const expired = await t.call('POST', '/v1/principals/mx-signing/tokens', {
      body: { ttlSeconds: 1 },
    });
    const revoked = await principalToken(t, 'mx-revoked', 'signing', ['in-*']);
    const listed = await t.call('GET', '/v1/principals/mx-revoked/tokens');
    const deleted = await principalToken(t, 'mx-deleted', 'signing', ['in-*']);
    for (const tok of [expired.body.token, revoked, deleted])
      expect(
        (await t.call('POST', '/v1/keys/in-sig/sign', { token: tok, body: { message: 'aGk=' } }))
          .status,
      ).toBe(200);
    await t.call('DELETE', `/v1/tokens/${listed.body.tokens[0].tokenId}`);
    await t.call('DELETE', '/v1/principals/mx-deleted');
    await new Promise((r) => setTimeout(r, 1100));
    const wrong: string[] = [];
    for (const spec of SPECS.filter((s) => s.roles !== 'public')) {
      for (const tok of [expired.body.token, revoked, deleted]) {
        const { url, body } = await request(spec, variantsOf(spec)[0]!);
        const r = await t.call(spec.method, url, {
          token: tok,
          ...(body === undefined ? {} : { body }),
        });
        if (r.status !== 401 || r.body.error.code !== 'UNAUTHENTICATED')
          wrong.push(`${spec.method} ${url}: ${r.status}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('looks a token up by its SHA-256 only', async () => {
    const token = await principalToken(t, 'mx-lookup', 'signing', []);
    const seen: unknown[][] = [];
    const db = t.kms.services.deps.db;
    const recorder: KyselyPlugin = {
      transformQuery: ({ node, queryId }: PluginTransformQueryArgs) => {
        seen.push([...db.getExecutor().compileQuery(node, queryId).parameters]);
        return node;
      },
      transformResult: async ({ result }: PluginTransformResultArgs) => result,
    };
    const deps = t.kms.services.deps;
    const auth = new AuthService({
      db: db.withPlugin(recorder),
      writer: deps.writer,
      invalidations: deps.invalidations,
      tokenTtlSeconds: 60,
    });
    expect((await auth.authenticate(token))?.name).toBe('mx-lookup');
    expect(
      await auth.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')),
    ).toBeUndefined();
    const digest = createHash('sha256').update(token).digest();
    const params = seen.flat();
    expect(params.some((p) => Buffer.isBuffer(p) && p.equals(digest))).toBe(true);
    expect(params.some((p) => typeof p === 'string' && p.includes(token.slice(5, 20)))).toBe(false);
  });
});
