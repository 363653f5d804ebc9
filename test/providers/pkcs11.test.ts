/**
 * What only the PKCS#11 provider promises, checked on SoftHSM2 through graphene: the root key's
 * protection, no readable objects left behind, the bounded handle cache, clear open() errors,
 * reconnect after a lost session, and the vendor facts recorded in vendors.ts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  KeyType,
  ObjectClass,
  type SecretKey,
  type Session,
  type SessionObject,
  type Slot,
} from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CKM, CKR } from '../../src/providers/pkcs11/constants.js';
import { ckrOf } from '../../src/providers/pkcs11/errors.js';
import { loadPkcs11Module } from '../../src/providers/pkcs11/module.js';
import { unwrapForUse } from '../../src/providers/pkcs11/objects.js';
import { Pkcs11Provider, type Pkcs11ProviderOptions } from '../../src/providers/pkcs11/provider.js';
import { findSlot, openUserSession } from '../../src/providers/pkcs11/token.js';
import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type SecretRef,
} from '../../src/providers/provider.js';
import { cleanupTestSoftHsm, testSoftHsm, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let slot: Slot;
let inspector: Session;
const opened: Pkcs11Provider[] = [];

async function provider(overrides: Partial<Pkcs11ProviderOptions> = {}): Promise<Pkcs11Provider> {
  const p = new Pkcs11Provider({ ...token.options, ...overrides });
  await p.open();
  opened.push(p);
  return p;
}

/** Session objects (CKA_TOKEN false) of this process on the token: the provider's, nothing else. */
function sessionObjects(): SessionObject[] {
  const found = inspector.find({ token: false });
  return Array.from({ length: found.length }, (_, i) => found.items(i));
}

function rootKey(label: string): SessionObject {
  const found = inspector.find({ class: ObjectClass.SECRET_KEY, token: true, label });
  expect(found.length).toBe(1);
  return found.items(0);
}

beforeAll(() => {
  token = testSoftHsm().token('zoo-pkcs11');
  slot = findSlot(loadPkcs11Module('inspector', token.library), {
    provider: 'inspector',
    ...token,
  });
  inspector = openUserSession(slot, { provider: 'inspector', pin: token.pin });
});

afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  inspector.close();
  cleanupTestSoftHsm();
});

describe('root key', () => {
  it('is a token AES-256 key that never leaves the device, used only to wrap and unwrap', async () => {
    await provider({ rootKeyLabel: 'zoo-kms-root' });
    const a = rootKey('zoo-kms-root').getAttribute({
      keyType: null,
      valueLen: null,
      token: null,
      private: null,
      extractable: null,
      sensitive: null,
      neverExtractable: null,
      alwaysSensitive: null,
      wrap: null,
      unwrap: null,
      encrypt: null,
      decrypt: null,
      sign: null,
    });
    expect(a).toEqual({
      keyType: KeyType.AES,
      valueLen: 32,
      token: true,
      private: true,
      extractable: false,
      sensitive: true,
      neverExtractable: true,
      alwaysSensitive: true,
      wrap: true,
      unwrap: true,
      encrypt: false,
      decrypt: false,
      sign: false,
    });
    let code: number | undefined;
    try {
      rootKey('zoo-kms-root').getAttribute({ value: null });
    } catch (e) {
      code = ckrOf(e);
    }
    expect(code).toBe(0x11); // CKR_ATTRIBUTE_SENSITIVE
  });

  it('is found again by label by another instance (a restart, or a second KMS instance)', async () => {
    const a = await provider({ rootKeyLabel: 'shared-root' });
    const b = await provider({ rootKeyLabel: 'shared-root' });
    const secret = randomBytes(32);
    expect(await b.unwrap('bls12-381', await a.wrap('bls12-381', secret))).toEqual(
      new Uint8Array(secret),
    );
  });

  it('refuses a key under the root label that could leave the device', async () => {
    inspector.create({
      class: ObjectClass.SECRET_KEY,
      keyType: KeyType.AES,
      token: true,
      private: true,
      label: 'weak-root',
      value: randomBytes(32),
      extractable: true,
      sensitive: false,
      wrap: true,
      unwrap: true,
    });
    await expect(provider({ rootKeyLabel: 'weak-root' })).rejects.toThrow(
      /softhsm2-zoo-pkcs11: the root key labelled "weak-root" is extractable, is not sensitive/,
    );
  });

  it('imports given bytes only when the label is free', async () => {
    await provider({ rootKeyLabel: 'imported', importRootKey: randomBytes(32) });
    await expect(
      provider({ rootKeyLabel: 'imported', importRootKey: randomBytes(32) }),
    ).rejects.toThrow(/a root key labelled "imported" exists already/);
  });
});

describe('objects in the device', () => {
  it('leaves no readable object behind, and keeps cached keys sensitive and non-extractable', async () => {
    const p = await provider();
    const key = randomBytes(32);
    const hmac: SecretRef = {
      id: 'objects:1',
      algorithm: 'hmac-sha256',
      wrapped: await p.wrap('hmac-sha256', key),
    };
    const aes: SecretRef = { ...hmac, id: 'objects:2', algorithm: 'aes-256-gcm' };
    const ec: SecretRef = {
      id: 'objects:3',
      algorithm: 'p-256',
      wrapped: await p.wrap('p-256', Uint8Array.of(...new Uint8Array(31), 1)),
    };
    await p.unwrap('hmac-sha256', hmac.wrapped);
    await p.hmacSha256(hmac, new Uint8Array(3));
    await p.aesGcmEncrypt(aes, new Uint8Array(12), new Uint8Array(3), new Uint8Array(0));
    await p.sign(ec, new Uint8Array(32));
    const attrs = sessionObjects().map((o) =>
      o.getAttribute({ extractable: null, sensitive: null }),
    );
    expect(attrs.length).toBeGreaterThanOrEqual(3);
    for (const a of attrs) expect(a).toEqual({ extractable: false, sensitive: true });
  });

  it('bounds the handle cache and destroys evicted objects in the device', async () => {
    const p = await provider({ maxCachedKeys: 3 });
    const key = randomBytes(32);
    const wrapped = await p.wrap('hmac-sha256', key);
    const before = sessionObjects().length;
    for (let i = 0; i < 5; i++) {
      const out = await p.hmacSha256(
        { id: `lru-${i}:1`, algorithm: 'hmac-sha256', wrapped },
        new Uint8Array(0),
      );
      expect(out).toEqual(new Uint8Array(createHmac('sha256', key).digest()));
    }
    expect(p.cachedKeyCount).toBe(3);
    expect(sessionObjects().length - before).toBe(3);
    p.forget('lru-');
    expect(p.cachedKeyCount).toBe(0);
    expect(sessionObjects().length).toBe(before);
  });
});

describe('SoftHSM2 2.6.1 quirks recorded in vendors.ts', () => {
  it('declares HMAC (32-byte minimum), AES-GCM, and ECDSA on P-256 and secp256k1', async () => {
    const p = await provider();
    expect(p.capabilities).toEqual({
      hmac: { minKeyBytes: 32 },
      aesGcm: true,
      sign: ['p-256', 'secp256k1'],
    });
  });

  it('refuses an HMAC key under 32 bytes without keeping it', async () => {
    const p = await provider();
    const ref: SecretRef = {
      id: 'short:1',
      algorithm: 'hmac-sha256',
      wrapped: await p.wrap('hmac-sha256', randomBytes(16)),
    };
    const cached = p.cachedKeyCount;
    await expect(p.hmacSha256(ref, new Uint8Array(1))).rejects.toThrow(/CKR_KEY_SIZE_RANGE/);
    await expect(p.hmacSha256(ref, new Uint8Array(1))).rejects.toBeInstanceOf(ProviderRefusedError);
    expect(p.cachedKeyCount).toBe(cached);
  });

  it('refuses to wrap a raw secret whose length is not a multiple of 8 (the device would pad it)', async () => {
    const p = await provider();
    await expect(p.wrap('hmac-sha256', randomBytes(31))).rejects.toThrow(/multiple of 8 bytes/);
  });

  it('cannot unwrap an Ed25519 PKCS#8 key into a signing key, so ed25519 signs in software', async () => {
    const p = await provider({ rootKeyLabel: 'ed-root' });
    const blob = await p.wrap('ed25519', randomBytes(32));
    const root = rootKey('ed-root').toType<SecretKey>();
    expect(() => unwrapForUse(inspector, root, CKM.AES_KEY_WRAP_PAD, blob, 'eddsa')).toThrow(
      /CKR_FUNCTION_FAILED/,
    );
    const ref: SecretRef = { id: 'ed:1', algorithm: 'ed25519', wrapped: blob };
    await expect(p.sign(ref, new Uint8Array(1))).rejects.toBeInstanceOf(ProviderRefusedError);
  });
});

describe('open() errors name the provider and the problem', () => {
  it('a wrong PIN', async () => {
    // A token of its own: login is per process and token, so the inspector's login would hide it.
    const { options } = testSoftHsm().token('zoo-pin');
    const err = await provider({ ...options, pin: 'not-the-pin' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toBe(
      'pkcs11 provider softhsm2-zoo-pin: login to token "zoo-pin" failed: the PIN is incorrect (CKR_PIN_INCORRECT)',
    );
    await expect(provider(options)).resolves.toBeInstanceOf(Pkcs11Provider);
  });

  it('a token label that is not there', async () => {
    await expect(provider({ tokenLabel: 'missing' })).rejects.toThrow(
      /pkcs11 provider softhsm2-zoo-pkcs11: no token labelled "missing"; tokens present: .*"zoo-pkcs11"/,
    );
  });

  it('a library that cannot be loaded is ProviderUnavailableError', async () => {
    const err = await provider({ library: '/nonexistent/libpkcs11.so' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toMatch(/softhsm2-zoo-pkcs11 .*cannot load PKCS#11 library/);
  });

  it('a token that lists none of the vendor setting RFC 5649 mechanisms (0x210b of luna here)', async () => {
    await expect(provider({ vendor: 'luna' })).rejects.toThrow(
      'pkcs11 provider softhsm2-zoo-pkcs11: the luna token offers no RFC 5649 key wrap (AES-KWP, mechanism 0x210b)',
    );
  });
});

describe('a lost session', () => {
  it('is ProviderUnavailableError, and health() reconnects', async () => {
    const other = testSoftHsm().token('zoo-reconnect');
    const p = await provider(other.options);
    const key = randomBytes(32);
    const ref: SecretRef = {
      id: 'lost:1',
      algorithm: 'hmac-sha256',
      wrapped: await p.wrap('hmac-sha256', key),
    };
    const expected = new Uint8Array(createHmac('sha256', key).update('x').digest());
    expect(await p.hmacSha256(ref, Buffer.from('x'))).toEqual(expected);
    // Every session of this process on that token ends, as when a device is pulled.
    findSlot(loadPkcs11Module('inspector', other.library), { provider: 'x', ...other }).closeAll();
    const err = await p.hmacSha256(ref, Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(ckrOf((err as Error).cause)).toBe(CKR.SESSION_HANDLE_INVALID);
    await expect(p.health()).resolves.toBeUndefined();
    expect(await p.hmacSha256(ref, Buffer.from('x'))).toEqual(expected);
  });
});
