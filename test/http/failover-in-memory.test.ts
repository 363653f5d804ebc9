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
  type Algorithm,
  type Capabilities,
  type KeyProvider,
  type SecretRef,
} from '../../src/providers/provider.js';
import { SoftwareProvider } from '../../src/providers/software.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';

/** Forwards to a real provider; `down` makes every call an outage; `hmac: false` hides its HMAC. */
class Device implements KeyProvider {
  readonly kind: string;
  readonly name: string;
  down = false;

  constructor(
    private readonly inner: KeyProvider,
    private readonly hmac = true,
  ) {
    this.kind = inner.kind;
    this.name = inner.name;
  }
  get capabilities(): Capabilities {
    return this.hmac ? this.inner.capabilities : { ...this.inner.capabilities, hmac: null };
  }
  private up<T>(fn: () => Promise<T>): Promise<T> {
    return this.down
      ? Promise.reject(new ProviderUnavailableError(this.name, 'pulled out by the test'))
      : fn();
  }
  open = () => this.inner.open();
  wrap = (a: Algorithm, s: Uint8Array) => this.up(() => this.inner.wrap(a, s));
  unwrap = (a: Algorithm, w: Uint8Array) => this.up(() => this.inner.unwrap(a, w));
  hmacSha256 = (r: SecretRef, d: Uint8Array) => this.up(() => this.inner.hmacSha256(r, d));
  aesGcmEncrypt = (r: SecretRef, iv: Uint8Array, p: Uint8Array, aad: Uint8Array) =>
    this.up(() => this.inner.aesGcmEncrypt(r, iv, p, aad));
  aesGcmDecrypt = (r: SecretRef, iv: Uint8Array, c: Uint8Array, aad: Uint8Array) =>
    this.up(() => this.inner.aesGcmDecrypt(r, iv, c, aad));
  sign = (r: SecretRef, i: Uint8Array) => this.up(() => this.inner.sign(r, i));
  forget = (p: string) => this.inner.forget(p);
  health = () => this.up(() => this.inner.health());
  close = () => this.inner.close();
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
