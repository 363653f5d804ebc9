/**
 * The vendor settings table (vendors.ts, docs/providers.md): which devices can hold the root key,
 * what each library expects as its PIN, and the refusals at start, which happen before any library
 * is loaded (the library paths here do not exist, so a load would fail differently).
 */
import { describe, expect, it } from 'vitest';
import { CKM } from '../../src/providers/pkcs11/constants.js';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import {
  CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD,
  VENDORS,
  capabilitiesOf,
  kwpMechanismOf,
  pinFormMismatch,
  type VendorName,
} from '../../src/providers/pkcs11/vendors.js';

const make = (vendor: VendorName, pin: string) =>
  new Pkcs11Provider({
    name: `p-${vendor}`,
    vendor,
    library: '/nonexistent/lib.so',
    tokenLabel: 't',
    pin,
  });

describe('devices without an RFC 5649 wrap are refused at start, with the reason', () => {
  it.each([
    ['yubihsm2', /CKM_YUBICO_AES_CCM_WRAP/],
    ['nitrokey', /DKEK backup/],
    ['zymbit', /no AES key wrap/],
  ] as const)('%s', (vendor, reason) => {
    expect(() => make(vendor, '0001password')).toThrow(
      new RegExp(`^pkcs11 provider p-${vendor}: ${vendor} cannot hold the KMS root key: `),
    );
    expect(() => make(vendor, '0001password')).toThrow(reason);
    expect(VENDORS[vendor].kwpMechanisms).toEqual([]);
  });

  it('every vendor either names a wrap mechanism or says why it has none', () => {
    for (const v of Object.values(VENDORS)) {
      expect(v.kwpMechanisms.length > 0 || (v.refusal ?? '').length > 20).toBe(true);
    }
  });
});

describe('PIN forms the vendor libraries expect (checked on the config path)', () => {
  it('aws-cloudhsm needs "<crypto user>:<password>", yubihsm2 a key id first', () => {
    expect(pinFormMismatch('aws-cloudhsm', 'just-a-password')).toBe('<crypto user>:<password>');
    expect(pinFormMismatch('aws-cloudhsm', 'kms_cu:secret')).toBeUndefined();
    expect(pinFormMismatch('yubihsm2', 'password')).toMatch(/4-hex-digit authentication key id/);
    expect(pinFormMismatch('yubihsm2', '0001password')).toBeUndefined();
  });

  it('luna and softhsm2 take any PIN', () => {
    expect(pinFormMismatch('luna', 'x')).toBeUndefined();
    expect(pinFormMismatch('softhsm2', 'x')).toBeUndefined();
    expect(() => make('luna', 'x')).not.toThrow();
  });
});

describe('mechanism choice', () => {
  it('aws-cloudhsm prefers Client SDK 5 ZERO_PAD and falls back to CKM_AES_KEY_WRAP_PAD', () => {
    const v = VENDORS['aws-cloudhsm'];
    const sdk5 = new Set([CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, CKM.AES_KEY_WRAP_PAD]);
    expect(kwpMechanismOf(v, sdk5)).toBe(0x8000216f);
    expect(kwpMechanismOf(v, new Set([CKM.AES_KEY_WRAP_PAD]))).toBe(0x210a);
    expect(kwpMechanismOf(v, new Set([CKM.AES_KEY_WRAP_KWP]))).toBeUndefined();
  });

  it('capabilities keep only what the token lists', () => {
    const luna = VENDORS.luna;
    expect(capabilitiesOf(luna)).toEqual({
      hmac: { minKeyBytes: 32 },
      aesGcm: true,
      sign: ['p-256', 'secp256k1'],
    });
    expect(capabilitiesOf(luna, new Set([CKM.SHA256_HMAC]))).toEqual({
      hmac: { minKeyBytes: 32 },
      aesGcm: false,
      sign: [],
    });
  });
});
