import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type TestKms } from '../support/kms.js';

let t: TestKms;
beforeAll(async () => {
  t = await startKms();
});
afterAll(async () => {
  await t?.close();
});

describe('smoke', () => {
  it('serves health and readiness', async () => {
    expect((await t.call('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const ready = await t.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });

  it('creates a key and signs', async () => {
    const created = await t.call('POST', '/v1/keys', {
      body: { name: 'k1', algorithm: 'p-256', purpose: 'signing' },
    });
    expect(created.status).toBe(201);
    const token = await principalToken(t, 'svc', 'signing', ['k1']);
    const s = await t.call('POST', '/v1/keys/k1/sign', {
      token,
      body: { message: Buffer.from('hi').toString('base64') },
    });
    expect(s.status).toBe(200);
    expect(s.body.signature).toMatch(/^0x[0-9a-f]{128}$/);
    const v = await t.call('POST', '/v1/keys/k1/verify', {
      token,
      body: { message: Buffer.from('hi').toString('base64'), signature: s.body.signature },
    });
    expect(v.body).toEqual({ valid: true });
    const audit = await t.call('GET', '/v1/audit/verify');
    expect(audit.body.ok).toBe(true);
  });
});
