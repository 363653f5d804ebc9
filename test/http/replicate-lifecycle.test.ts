/**
 * Issue 6, the master's life (docs/replicate.md "Rotation"): rotating a master that does not exist
 * makes version 1; a disabled master refuses with 409; a master destroyed as a whole answers 410
 * (first use does not silently make a new one) until an admin imports or creates one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { fetchIdentity } from '../support/replicate.js';

let t: TestKms;
let token: string;
beforeAll(async () => {
  t = await startKms();
  token = await principalToken(t, 'sidecar', 'replicate', ['lux/*/*']);
});
afterAll(async () => {
  await t?.close();
});

const MASTER = '/v1/keys/replicate-master.lux.life';

describe('master lifecycle', () => {
  it('rotating a missing master makes version 1, then 2', async () => {
    expect((await t.call('POST', '/v1/replicate/lux/life/rotate')).body).toEqual({ keyVersion: 1 });
    const v1 = await fetchIdentity(t, 'lux/life/api', {}, token);
    expect(v1.body.keyVersion).toBe(1);
    expect((await t.call('POST', '/v1/replicate/lux/life/rotate')).body).toEqual({ keyVersion: 2 });
    const v2 = await fetchIdentity(t, 'lux/life/api', {}, token);
    expect(v2.body.keyVersion).toBe(2);
    expect(v2.identity).not.toBe(v1.identity);
    expect((await fetchIdentity(t, 'lux/life/api', { keyVersion: 1 }, token)).identity).toBe(
      v1.identity,
    );
  });

  it('a disabled master refuses with 409 KEY_DISABLED, and serves again once enabled', async () => {
    const before = await fetchIdentity(t, 'lux/life/api', {}, token);
    expect((await t.call('PATCH', MASTER, { body: { enabled: false } })).status).toBe(200);
    const rec = await t.call('GET', '/v1/replicate/lux/life/api/recipients', { token });
    expect([rec.status, rec.body.error.code]).toEqual([409, 'KEY_DISABLED']);
    expect((await fetchIdentity(t, 'lux/life/api', {}, token)).body.error.code).toBe(
      'KEY_DISABLED',
    );
    expect((await t.call('PATCH', MASTER, { body: { enabled: true } })).status).toBe(200);
    expect((await fetchIdentity(t, 'lux/life/api', {}, token)).identity).toBe(before.identity);
  });

  it('a destroyed master answers 410 until a new one is imported', async () => {
    expect((await t.call('DELETE', MASTER)).status).toBe(200);
    const rec = await t.call('GET', '/v1/replicate/lux/life/api/recipients', { token });
    expect([rec.status, rec.body.error.code]).toEqual([410, 'KEY_DESTROYED']);
    expect((await fetchIdentity(t, 'lux/life/api', { keyVersion: 1 }, token)).status).toBe(410);
    const imported = await t.call('POST', '/v1/keys/import', {
      body: {
        name: 'replicate-master.lux.life',
        algorithm: 'hmac-sha256',
        purpose: 'replicate-master',
        privateKey: '0x' + '42'.repeat(32),
      },
    });
    expect(imported.status).toBe(201);
    const again = await t.call('GET', '/v1/replicate/lux/life/api/recipients', { token });
    expect(again.status).toBe(200);
    expect(again.body.keyVersion).toBe(1);
  });
});
