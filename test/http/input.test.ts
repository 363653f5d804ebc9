/**
 * Issue 2, bad input: malformed JSON, wrong types, missing fields, unknown fields, oversized
 * bodies, unknown algorithms and out-of-range integers get a 4xx with a code from the error table
 * and a message naming the field; never a 500. Every response carries x-request-id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type TestKms } from '../support/kms.js';

let t: TestKms;
let signer: string;
beforeAll(async () => {
  t = await startKms({ config: { server: { body_limit: '64KiB' } } });
  await t.call('POST', '/v1/keys', {
    body: { name: 'k', algorithm: 'secp256k1', purpose: 'signing' },
  });
  signer = await principalToken(t, 's', 'signing', ['*']);
});
afterAll(async () => {
  await t?.close();
});

async function raw(method: string, url: string, payload: string, contentType = 'application/json') {
  const res = await t.kms.app.inject({
    method: method as 'POST',
    url,
    payload,
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': contentType },
  });
  return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers };
}

const CASES: [string, string, unknown, number, string, string][] = [
  [
    'wrong type',
    '/v1/keys',
    { name: 'a', algorithm: 7, purpose: 'signing' },
    400,
    'INVALID_REQUEST',
    'algorithm',
  ],
  [
    'missing field',
    '/v1/keys',
    { name: 'a', purpose: 'signing' },
    400,
    'INVALID_REQUEST',
    'algorithm',
  ],
  [
    'unknown field',
    '/v1/keys',
    { name: 'a', algorithm: 'ed25519', purpose: 'signing', colour: 'red' },
    400,
    'INVALID_REQUEST',
    'colour',
  ],
  [
    'unknown algorithm',
    '/v1/keys',
    { name: 'a', algorithm: 'rsa-4096', purpose: 'signing' },
    400,
    'INVALID_REQUEST',
    'algorithm',
  ],
  [
    'unknown purpose',
    '/v1/keys',
    { name: 'a', algorithm: 'ed25519', purpose: 'fun' },
    400,
    'INVALID_REQUEST',
    'purpose',
  ],
  [
    'bad name',
    '/v1/keys',
    { name: '../etc', algorithm: 'ed25519', purpose: 'signing' },
    400,
    'INVALID_REQUEST',
    'name',
  ],
  [
    'chain id above 2^53-1',
    '/v1/keys',
    { name: 'v', algorithm: 'bls12-381', purpose: 'validator', chains: [2 ** 53] },
    400,
    'INVALID_REQUEST',
    'chains[0]',
  ],
  [
    'unknown chain',
    '/v1/keys',
    { name: 'v', algorithm: 'bls12-381', purpose: 'validator', chains: ['999'] },
    400,
    'INVALID_REQUEST',
    'chains[0]',
  ],
  [
    'bad hex private key',
    '/v1/keys/import',
    { name: 'i', algorithm: 'ed25519', purpose: 'signing', privateKey: '0xZZ' },
    400,
    'INVALID_REQUEST',
    'privateKey',
  ],
  [
    'short private key',
    '/v1/keys/import',
    { name: 'i', algorithm: 'ed25519', purpose: 'signing', privateKey: '0x0102' },
    400,
    'INVALID_REQUEST',
    'privateKey',
  ],
  [
    'zero EC scalar',
    '/v1/keys/import',
    { name: 'i', algorithm: 'secp256k1', purpose: 'signing', privateKey: '0x' + '00'.repeat(32) },
    400,
    'INVALID_REQUEST',
    'privateKey',
  ],
];

describe('bad requests name the field', () => {
  for (const [label, url, body, status, code, field] of CASES) {
    it(label, async () => {
      const r = await t.call('POST', url, { body });
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toContain(field);
    });
  }

  it('sign: bad base64, bad digest length, both message and digest, neither', async () => {
    const cases: [unknown, string][] = [
      [{ message: 'not base64!' }, 'message'],
      [{ digest: '0x1234' }, 'digest'],
      [{ message: 'AA==', digest: '0x' + '00'.repeat(32) }, 'digest'],
      [{}, 'message'],
      [{ message: 'AA==', format: 'weird' }, 'format'],
    ];
    for (const [body, field] of cases) {
      const r = await t.call('POST', '/v1/keys/k/sign', { token: signer, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });

  it('malformed JSON, empty body, wrong content type and oversized bodies', async () => {
    const bad = await raw('POST', '/v1/keys', '{"name": ');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    const arr = await raw('POST', '/v1/keys', '[1,2,3]');
    expect(arr.status).toBe(400);
    const text = await raw('POST', '/v1/keys', 'name=a', 'text/plain');
    expect([text.status, text.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await raw(
      'POST',
      '/v1/keys',
      JSON.stringify({ name: 'a', algorithm: 'x'.repeat(70_000), purpose: 'signing' }),
    );
    expect([big.status, big.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const deep = await raw('POST', '/v1/keys', '['.repeat(20_000) + ']'.repeat(20_000));
    expect(deep.status).toBeGreaterThanOrEqual(400);
    expect(deep.status).toBeLessThan(500);
  });

  it('unknown routes and bad path parameters', async () => {
    const r = await t.call('GET', '/v1/nothing');
    expect([r.status, r.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const v = await t.call('DELETE', '/v1/keys/k/versions/zero');
    expect(v.status).toBe(400);
    expect(v.body.error.message).toContain('version');
  });

  it('echoes a sane x-request-id and makes one otherwise', async () => {
    const given = await t.call('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await t.call('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(made.headers['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
    const again = await t.call('GET', '/healthz', { token: null });
    expect(again.headers['x-request-id']).toMatch(/^req_[0-9a-f]{16}$/);
    expect(again.headers['x-request-id']).not.toBe(made.headers['x-request-id']);
  });
});
