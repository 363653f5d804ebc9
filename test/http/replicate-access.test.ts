/**
 * Issue 6, who may call the replicate routes (API.md "Who may call what", "Replicate"): a replicate
 * token reaches only its own {ecosystem}/{env}/{service} and no route of another role; malformed
 * targets, recipients, kinds and versions are 400 naming the field; every call is audited once,
 * and no event carries a seed or an identity.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { bech32 } from '@scure/base';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { fetchIdentity } from '../support/replicate.js';

let t: TestKms;
let token: string;
let wrapTo: string;
let url: string;
beforeAll(async () => {
  t = await startKms({ config: { replicate: { ecosystems: ['zoo', 'lux'] } } });
  url = await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
  token = await principalToken(t, 'iam-sidecar', 'replicate', ['zoo/prod/iam']);
  wrapTo = await identityToRecipient(await generateHybridIdentity());
  await t.call('POST', '/v1/keys', {
    body: { name: 's1', algorithm: 'ed25519', purpose: 'signing' },
  });
});
afterAll(async () => {
  await t?.close();
});

const b64 = Buffer.from('hello').toString('base64');
const hash = '0x' + '11'.repeat(32);

/** Routes of other roles, with bodies their schemas accept (validation runs before the role check). */
const OTHER_ROLES: [method: string, url: string, pattern: string, body?: unknown][] = [
  ['POST', '/v1/keys', '/v1/keys', { name: 'x', algorithm: 'p-256', purpose: 'signing' }],
  [
    'POST',
    '/v1/keys/import',
    '/v1/keys/import',
    {
      name: 'replicate-master.zoo.prod',
      algorithm: 'hmac-sha256',
      purpose: 'replicate-master',
      privateKey: hash,
    },
  ],
  ['POST', '/v1/keys/replicate-master.zoo.prod/rotate', '/v1/keys/:name/rotate'],
  ['PATCH', '/v1/keys/replicate-master.zoo.prod', '/v1/keys/:name', { enabled: false }],
  ['DELETE', '/v1/keys/replicate-master.zoo.prod/versions/1', '/v1/keys/:name/versions/:version'],
  ['DELETE', '/v1/keys/replicate-master.zoo.prod', '/v1/keys/:name'],
  ['GET', '/v1/keys/replicate-master.zoo.prod', '/v1/keys/:name'],
  ['POST', '/v1/replicate/zoo/prod/rotate', '/v1/replicate/:ecosystem/:env/rotate'],
  ['POST', '/v1/principals', '/v1/principals', { name: 'p', role: 'admin', scopes: [] }],
  ['GET', '/v1/audit/events', '/v1/audit/events'],
  ['POST', '/v1/keys/s1/sign', '/v1/keys/:name/sign', { message: b64 }],
  ['POST', '/v1/keys/s1/verify', '/v1/keys/:name/verify', { message: b64, signature: hash }],
  [
    'POST',
    '/v1/validators/v1/block-signatures',
    '/v1/validators/:key/block-signatures',
    { chainId: '122', height: '1', round: '0', blockHash: hash },
  ],
  [
    'POST',
    '/v1/validators/v1/proof-of-possession',
    '/v1/validators/:key/proof-of-possession',
    { chainId: '122' },
  ],
  ['GET', '/v1/validators/v1/watermark?chainId=122', '/v1/validators/:key/watermark'],
  [
    'POST',
    '/v1/bridge/b1/signatures',
    '/v1/bridge/:key/signatures',
    {
      sourceChainId: '122',
      targetChainId: '120',
      nonce: '1',
      timestamp: '1700000000',
      payload: '0x00',
    },
  ],
  ['POST', '/v1/experience/encrypt', '/v1/experience/encrypt', { userId: 'u1', plaintext: b64 }],
  ['POST', '/v1/experience/rotate', '/v1/experience/rotate'],
  ['POST', '/v1/keys/e1/encrypt', '/v1/keys/:name/encrypt', { plaintext: b64 }],
  ['POST', '/v1/keys/e1/datakey', '/v1/keys/:name/datakey', {}],
  ['POST', '/v1/keys/d1/derive', '/v1/keys/:name/derive', { info: 'x' }],
];

describe('scopes and roles', () => {
  it('serves its own service', async () => {
    expect((await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token })).status).toBe(
      200,
    );
    expect((await fetchIdentity(t, 'zoo/prod/iam', {}, token)).status).toBe(200);
  });

  it.each(['zoo/prod/kms', 'lux/prod/iam', 'zoo/dev/iam'])(
    'refuses %s with an audited 403',
    async (target) => {
      const rec = await t.call('GET', `/v1/replicate/${target}/recipients`, {
        token,
        headers: { 'x-request-id': `rec-${target.replace(/\//g, '-')}` },
      });
      expect(rec.status).toBe(403);
      expect(rec.body.error.code).toBe('FORBIDDEN');
      const id = await fetchIdentity(t, target, {}, token);
      expect(id.status).toBe(403);
      const events = await eventsOf(`rec-${target.replace(/\//g, '-')}`);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        action: 'replicate.recipients',
        outcome: 'refused',
        code: 'FORBIDDEN',
        principal: 'iam-sidecar',
      });
      // No master was made for a refused target.
      expect(
        (
          await t.call(
            'GET',
            `/v1/keys/replicate-master.${target.split('/').slice(0, 2).join('.')}`,
          )
        ).status,
      ).toBe(target.startsWith('zoo/prod') ? 200 : 404);
    },
  );

  it('gets 403 from every route of another role (404 only where that capability is not wired yet)', async () => {
    const missing: string[] = [];
    for (const [method, url, pattern, body] of OTHER_ROLES) {
      const exists = t.kms.app.hasRoute({ method: method as 'GET', url: pattern });
      if (!exists) missing.push(`${method} ${pattern}`);
      const res = await t.call(method, url, { token, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(exists ? 403 : 404);
    }
    // The foundation's routes and bridge are wired today; the rest join as their capabilities land.
    expect(
      missing.filter(
        (m) =>
          m.includes('/v1/keys/:name/sign') ||
          m.includes('/v1/principals') ||
          m.includes('/v1/keys/import'),
      ),
    ).toEqual([]);
    const list = await t.call('GET', '/v1/keys', { token });
    expect(list.status).toBe(200);
    expect(list.body.keys).toEqual([]);
  });

  it('refuses other roles and unauthenticated callers on the replicate routes', async () => {
    const signer = await principalToken(t, 'signer', 'signing', ['*']);
    const wildcard = await principalToken(t, 'ops', 'replicate', ['zoo/*/*']);
    expect(
      (await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token: signer })).status,
    ).toBe(403);
    expect((await fetchIdentity(t, 'zoo/prod/iam', {}, signer)).status).toBe(403);
    expect(
      (await t.call('GET', '/v1/replicate/zoo/prod/iam/recipients', { token: null })).status,
    ).toBe(401);
    expect(
      (await t.call('GET', '/v1/replicate/zoo/stage/kms/recipients', { token: wildcard })).status,
    ).toBe(200);
    expect(
      (await t.call('GET', '/v1/replicate/lux/stage/kms/recipients', { token: wildcard })).status,
    ).toBe(403);
  });
});

const identityPath = (target: string) => `/v1/replicate/${target}/identity`;
/** [case, method, url, body, field named by the 400]. */
const MALFORMED: [string, string, string, unknown, string][] = [
  ['unknown ecosystem', 'GET', '/v1/replicate/eth/prod/iam/recipients', undefined, 'ecosystem'],
  ['uppercase ecosystem', 'GET', '/v1/replicate/ZOO/prod/iam/recipients', undefined, 'ecosystem'],
  [
    'ecosystem not enabled in config',
    'GET',
    '/v1/replicate/hanzo/prod/iam/recipients',
    undefined,
    'ecosystem',
  ],
  ['uppercase env', 'GET', '/v1/replicate/zoo/Prod/iam/recipients', undefined, 'env'],
  ['env too long', 'GET', `/v1/replicate/zoo/${'a'.repeat(64)}/iam/recipients`, undefined, 'env'],
  ['env with underscore', 'GET', '/v1/replicate/zoo/pr_od/iam/recipients', undefined, 'env'],
  ['uppercase service', 'POST', identityPath('zoo/prod/IAM'), { wrapTo: 'W' }, 'service'],
  [
    'service with encoded slash',
    'GET',
    '/v1/replicate/zoo/prod/iam%2F..%2Fkms/recipients',
    undefined,
    'service',
  ],
  ['service with a space', 'GET', '/v1/replicate/zoo/prod/i%20am/recipients', undefined, 'service'],
  ['wrapTo missing', 'POST', identityPath('zoo/prod/iam'), {}, 'wrapTo'],
  ['wrapTo not a string', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 7 }, 'wrapTo'],
  ['wrapTo garbage', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 'age1nope' }, 'wrapTo'],
  ['wrapTo upper case', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 'UPPER' }, 'wrapTo'],
  ['wrapTo checksum', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 'CHECKSUM' }, 'wrapTo'],
  ['wrapTo an identity', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 'IDENTITY' }, 'wrapTo'],
  [
    'wrapTo a low-order point',
    'POST',
    identityPath('zoo/prod/iam'),
    { wrapTo: bech32.encodeFromBytes('age', new Uint8Array(32)) },
    'wrapTo',
  ],
  ['unknown kind', 'POST', identityPath('zoo/prod/iam'), { wrapTo: 'W', kind: 'ed25519' }, 'kind'],
  [
    'keyVersion zero',
    'POST',
    identityPath('zoo/prod/iam'),
    { wrapTo: 'W', keyVersion: 0 },
    'keyVersion',
  ],
  [
    'keyVersion unknown',
    'POST',
    identityPath('zoo/prod/iam'),
    { wrapTo: 'W', keyVersion: 9 },
    'keyVersion',
  ],
  [
    'unknown field',
    'POST',
    identityPath('zoo/prod/iam'),
    { wrapTo: 'W', identity: 'x' },
    'identity',
  ],
  ['rotate of a bad env', 'POST', '/v1/replicate/zoo/..%2Fx/rotate', undefined, 'env'],
];

describe('malformed input', () => {
  it.each(MALFORMED)('%s: 400 naming the field', async (_case, method, url, body, field) => {
    const fill = async (b: unknown) => {
      if (!b || typeof b !== 'object') return b;
      const o = { ...(b as Record<string, unknown>) };
      if (o.wrapTo === 'W') o.wrapTo = wrapTo;
      if (o.wrapTo === 'UPPER') o.wrapTo = wrapTo.toUpperCase();
      // The right form, a wrong checksum: refused when age-encryption parses it on the worker.
      if (o.wrapTo === 'CHECKSUM')
        o.wrapTo = wrapTo.slice(0, -1) + (wrapTo.endsWith('q') ? 'p' : 'q');
      if (o.wrapTo === 'IDENTITY') o.wrapTo = await generateHybridIdentity();
      return o;
    };
    const asAdmin = await t.call(method, url, { body: await fill(body) });
    expect(asAdmin.status, JSON.stringify(asAdmin.body)).toBe(400);
    expect(asAdmin.body.error.code).toBe('INVALID_REQUEST');
    expect(asAdmin.body.error.message).toMatch(new RegExp(`^(path parameter )?${field}\\b`));
    if (method === 'POST' && url.endsWith('/rotate')) return;
    const asSidecar = await t.call(method, url, { token, body: await fill(body) });
    expect([400, 403]).toContain(asSidecar.status);
  });
});

/** An HTTP request whose path goes on the wire as written (inject and fetch resolve dot segments). */
function rawRequest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${path}`,
      {
        method,
        path,
        headers: {
          authorization: `Bearer ${t.adminToken}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('path tricks on the wire', () => {
  it.each([
    ['GET', '/v1/replicate/zoo/../iam/recipients', 'env'],
    ['GET', '/v1/replicate/zoo/%2E%2E/iam/recipients', 'env'],
    ['GET', '/v1/replicate/zoo/prod/../recipients', 'service'],
    ['GET', '/v1/replicate/zoo/prod/..%2Fkms/recipients', 'service'],
    ['GET', '/v1/replicate/../prod/iam/recipients', 'ecosystem'],
    ['POST', '/v1/replicate/zoo/prod/./identity', 'service'],
    ['POST', '/v1/replicate/zoo/../rotate', 'env'],
  ])('%s %s: 400 naming %s', async (method, path, field) => {
    const res = await rawRequest(
      method,
      path,
      method === 'POST' && !path.endsWith('rotate') ? { wrapTo } : undefined,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.message).toMatch(new RegExp(`^${field} `));
  });
});

describe('audit', () => {
  it('records one event per call and never a seed or an identity', async () => {
    const first = await t.call('GET', '/v1/replicate/lux/fresh/iam/recipients', {
      headers: { 'x-request-id': 'first-use' },
    });
    expect(first.status).toBe(200);
    expect((await eventsOf('first-use')).map((e) => `${e.principal} ${e.action}`).sort()).toEqual([
      'admin replicate.recipients',
      'system key.create',
    ]);
    const got = await fetchIdentityWithId(t, 'lux/fresh/iam', 'one-identity');
    const events = await eventsOf('one-identity');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'replicate.identity',
      outcome: 'success',
      key: 'replicate-master.lux.fresh',
      keyVersion: 1,
    });
    expect(events[0]!.details).toEqual({
      ecosystem: 'lux',
      env: 'fresh',
      service: 'iam',
      kind: 'mlkem768x25519',
    });
    const all = JSON.stringify((await t.call('GET', '/v1/audit/events?limit=1000')).body);
    expect(all).not.toContain('AGE-SECRET-KEY');
    expect(all).not.toContain(got.slice(-20));
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
    const bad = await t.call('GET', '/v1/replicate/zoo/BAD/iam/recipients', {
      headers: { 'x-request-id': 'malformed' },
    });
    expect(bad.status).toBe(400);
    expect(await eventsOf('malformed')).toMatchObject([
      { action: 'replicate.recipients', outcome: 'refused', code: 'INVALID_REQUEST', key: null },
    ]);
  });

  it('records refusals decided before the service ran: another role, a schema error', async () => {
    const signer = await principalToken(t, 'signer-audit', 'signing', ['*']);
    const role = await t.call('POST', identityPath('zoo/prod/iam'), {
      token: signer,
      body: { wrapTo },
      headers: { 'x-request-id': 'wrong-role' },
    });
    expect(role.status).toBe(403);
    const schema = await t.call('POST', identityPath('zoo/prod/iam'), {
      token,
      body: { wrapTo, keyVersion: 0 },
      headers: { 'x-request-id': 'schema-error' },
    });
    expect(schema.status).toBe(400);
    const rotate = await t.call('POST', '/v1/replicate/zoo/prod/rotate', {
      token,
      headers: { 'x-request-id': 'rotate-by-sidecar' },
    });
    expect(rotate.status).toBe(403);
    const key = 'replicate-master.zoo.prod';
    // These events are written once the response is sent (onResponse): wait for them.
    const eventually = (id: string, want: unknown[]) =>
      vi.waitFor(async () => expect(await eventsOf(id)).toMatchObject(want), { timeout: 5000 });
    await eventually('wrong-role', [
      { action: 'replicate.identity', principal: 'signer-audit', code: 'FORBIDDEN', key },
    ]);
    await eventually('schema-error', [
      { action: 'replicate.identity', principal: 'iam-sidecar', code: 'INVALID_REQUEST', key },
    ]);
    await eventually('rotate-by-sidecar', [
      { action: 'replicate.rotate', principal: 'iam-sidecar', code: 'FORBIDDEN', key },
    ]);
  });
});

async function eventsOf(requestId: string): Promise<Record<string, unknown>[]> {
  const res = await t.call('GET', '/v1/audit/events?limit=1000');
  return (res.body.events as Record<string, unknown>[]).filter((e) => e.requestId === requestId);
}

async function fetchIdentityWithId(k: TestKms, target: string, requestId: string): Promise<string> {
  const id = await generateHybridIdentity();
  const res = await k.call('POST', identityPath(target), {
    body: { wrapTo: await identityToRecipient(id) },
    headers: { 'x-request-id': requestId },
  });
  expect(res.status).toBe(200);
  const { Decrypter, armor } = await import('age-encryption');
  const d = new Decrypter();
  d.addIdentity(id);
  return d.decrypt(armor.decode(res.body.identity as string), 'text');
}
