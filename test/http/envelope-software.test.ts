/**
 * Envelope encryption where no provider can run AES-GCM inside (AWS CloudHSM's settings, which
 * refuse caller-chosen IVs, here on a SoftHSM2 token): the key is unwrapped into memory and
 * src/crypto/aead.ts seals, in the same format, so ciphertexts move between the two paths.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { cleanupTestSoftHsm, testSoftHsm } from '../support/softhsm.js';
import { b64, importKey, referenceOpen, referenceSeal } from './envelope-reference.js';

const AES_KEY = Uint8Array.from(randomBytes(32));
let device: TestKms;
let software: TestKms;
let provider: Pkcs11Provider;

beforeAll(async () => {
  device = await startKms({ tokenLabel: 'kms-device' });
  software = await startKms({
    providers: () => {
      provider = new Pkcs11Provider({
        ...testSoftHsm().token('kms-no-gcm').options,
        name: 'cloudhsm-like',
        vendor: 'aws-cloudhsm',
      });
      return [provider];
    },
  });
  for (const t of [device, software])
    await importKey(t, 'ek', 'aes-256-gcm', 'encryption', AES_KEY);
});
afterAll(async () => {
  await device?.close();
  await software?.close();
  cleanupTestSoftHsm();
});

describe('the software AES-GCM path', () => {
  it('is taken when the provider has no in-device AES-GCM', async () => {
    expect(provider.capabilities.aesGcm).toBe(false);
    const before = provider.cachedKeyCount;
    const token = await principalToken(software, 'svc', 'encryption', ['ek']);
    const plaintext = randomBytes(1000);
    const e = await software.call('POST', '/v1/keys/ek/encrypt', {
      token,
      body: { plaintext: b64(plaintext), context: { k: 'v' } },
    });
    expect(e.status).toBe(200);
    expect(provider.cachedKeyCount).toBe(before);
    expect(
      referenceOpen(AES_KEY, 'ek', e.body.ciphertext, { k: 'v' }).plaintext.equals(plaintext),
    ).toBe(true);
    const d = await software.call('POST', '/v1/keys/ek/decrypt', {
      token,
      body: { ciphertext: e.body.ciphertext, context: { k: 'v' } },
    });
    expect(Buffer.from(d.body.plaintext, 'base64').equals(plaintext)).toBe(true);
    const wrong = await software.call('POST', '/v1/keys/ek/decrypt', {
      token,
      body: { ciphertext: e.body.ciphertext },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([400, 'DECRYPTION_FAILED']);
    const spec = referenceSeal(AES_KEY, 'ek', 1, Buffer.from('spec'));
    expect(
      (await software.call('POST', '/v1/keys/ek/decrypt', { token, body: { ciphertext: spec } }))
        .body.plaintext,
    ).toBe(b64(Buffer.from('spec')));
  });

  it('and the device path read each other ciphertexts (same key material and name)', async () => {
    const msg = b64(Buffer.from('moved between providers'));
    const fromDevice = (
      await device.call('POST', '/v1/keys/ek/encrypt', { body: { plaintext: msg } })
    ).body.ciphertext;
    const fromSoftware = (
      await software.call('POST', '/v1/keys/ek/encrypt', { body: { plaintext: msg } })
    ).body.ciphertext;
    expect(
      (await software.call('POST', '/v1/keys/ek/decrypt', { body: { ciphertext: fromDevice } }))
        .body.plaintext,
    ).toBe(msg);
    expect(
      (await device.call('POST', '/v1/keys/ek/decrypt', { body: { ciphertext: fromSoftware } }))
        .body.plaintext,
    ).toBe(msg);
  });
});
