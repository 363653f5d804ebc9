/**
 * Replicate seeds are secrets: a seed derived while the masters changed (a rotation, a destroyed
 * version) is used for its request and wiped, never put back in the cache the change cleared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicateService } from '../../src/services/replicate.js';
import type { Caller } from '../../src/services/context.js';
import { gate } from '../support/gate.js';
import { startKms, type TestKms } from '../support/kms.js';

let t: TestKms;
beforeAll(async () => {
  t = await startKms();
});
afterAll(async () => {
  await t?.close();
});

const caller: Caller = {
  principal: { name: 'admin', role: 'admin', scopes: [], certificateFingerprints: [] },
  requestId: 'test',
};

describe('replicate seed cache', () => {
  it('does not keep a seed derived across a key change', async () => {
    const service = new ReplicateService(t.kms.services.deps, t.kms.services.keys);
    const seeds = (service as unknown as { seeds: { size: number } }).seeds;
    await service.recipients(caller, { ecosystem: 'zoo', env: 'prod', service: 'db' });
    expect(seeds.size).toBeGreaterThan(0);

    const keyring = t.kms.services.keyring;
    const hmac = keyring.hmac.bind(keyring);
    const deriving = gate();
    keyring.hmac = async (...args) => {
      keyring.hmac = hmac;
      await deriving.pass();
      return hmac(...args);
    };
    try {
      const recipients = service.recipients(caller, {
        ecosystem: 'zoo',
        env: 'prod',
        service: 'q',
      });
      await deriving.reached;
      // The rotation's commit clears every seed (the cache's 'keys' invalidation).
      expect((await t.call('POST', '/v1/replicate/zoo/prod/rotate')).status).toBe(200);
      expect(seeds.size).toBe(0);
      deriving.open();
      expect(Object.keys((await recipients).recipients)).toHaveLength(2);
    } finally {
      deriving.open();
      keyring.hmac = hmac;
    }
    expect(seeds.size).toBe(0);
  });
});
