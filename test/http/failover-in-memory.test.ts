/**
 * docs/providers.md: a request in flight when a device fails still succeeds. Here the backup holds
 * every key's wrap but cannot run HMAC inside itself (as Google Cloud KMS cannot): when the
 * primary goes down during a derivation, the HMAC goes on in memory with the key unwrapped by the
 * backup, and gives the same bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProviderUnavailableError,
  type Capabilities,
  type KeyProvider,
} from '../../src/providers/provider.js';
import { ForwardingProvider } from '../support/forwarding-provider.js';
import { SoftwareProvider } from '../../src/providers/software.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';

/** Forwards to a real provider; `down` makes every call an outage; `hmac: false` hides its HMAC. */
class Device extends ForwardingProvider {
  down = false;

  constructor(
    inner: KeyProvider,
    private readonly hmac = true,
  ) {
    super(inner);
  }
  override get capabilities(): Capabilities {
    return this.hmac ? this.inner.capabilities : { ...this.inner.capabilities, hmac: null };
  }
  protected override call<T>(operation: () => Promise<T>): Promise<T> {
    return this.down
      ? Promise.reject(new ProviderUnavailableError(this.name, 'pulled out by the test'))
      : operation();
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-failover-mem-'));
let t: TestKms;
let primary: Device;
let token: string;

beforeAll(async () => {
  primary = new Device(new SoftwareProvider({ name: 'a', keyFile: path.join(dir, 'a.key') }));
  const backup = new Device(
    new SoftwareProvider({ name: 'b', keyFile: path.join(dir, 'b.key') }),
    false,
  );
  t = await startKms({
    config: { kms: { failover: { enabled: true } } },
    providers: () => [primary, backup],
  });
  await t.call('POST', '/v1/keys', {
    body: { name: 'dk', algorithm: 'hmac-sha256', purpose: 'derivation' },
  });
  token = await principalToken(t, 'svc', 'encryption', ['dk']);
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('failover to a backup without in-device HMAC', () => {
  it('a derivation in flight when the primary fails is answered, with the same key', async () => {
    const derive = () =>
      t.call('POST', '/v1/keys/dk/derive', { token, body: { info: 'db', length: 32 } });
    const before = await derive();
    expect(before.status).toBe(200);
    primary.down = true;
    const during = await derive();
    expect([during.status, during.body.key]).toEqual([200, before.body.key]);
    expect(t.kms.services.providers.isHealthy('a')).toBe(false);
  });
});
