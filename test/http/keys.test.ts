/**
 * Issue 2, keys API: with only HTTP and the admin token, make a `signing` principal and token,
 * create and import keys of every algorithm, sign, and check every signature with @noble (an
 * independent library). ECDSA signatures are low-S. Imported private keys never reach the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { storeDump } from '../support/dump.js';
import { gate } from '../support/gate.js';

let t: TestKms;
let signer: string;
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const unhex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex');

beforeAll(async () => {
  t = await startKms();
  signer = await principalToken(t, 'svc-signer', 'signing', ['sig-*']);
});
afterAll(async () => {
  await t?.close();
});

const MESSAGE = new TextEncoder().encode('zoo kms: sign me');

function verifyIndependently(alg: string, publicKey: Uint8Array, signature: Uint8Array): boolean {
  const digest = sha256(MESSAGE);
  switch (alg) {
    case 'secp256k1':
      return secp256k1.verify(signature, digest, publicKey, { prehash: false, lowS: true });
    case 'p-256':
      return p256.verify(signature, digest, publicKey, { prehash: false, lowS: true });
    case 'ed25519':
      return ed25519.verify(signature, MESSAGE, publicKey);
    case 'ml-dsa-65':
      return ml_dsa65.verify(signature, MESSAGE, publicKey);
    default:
      throw new Error(alg);
  }
}

const ASYMMETRIC = ['secp256k1', 'p-256', 'ed25519', 'ml-dsa-65'] as const;

describe('keys: create and sign with every algorithm', () => {
  for (const alg of ASYMMETRIC) {
    it(`${alg}: created key signs, the signature verifies with @noble`, async () => {
      const name = `sig-created-${alg}`;
      const created = await t.call('POST', '/v1/keys', {
        body: { name, algorithm: alg, purpose: 'signing' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name,
        algorithm: alg,
        purpose: 'signing',
        residency: 'wrapped',
        enabled: true,
      });
      expect(created.body.versions).toHaveLength(1);
      const publicKey = unhex(created.body.publicKey);
      for (let i = 0; i < (alg === 'ml-dsa-65' ? 2 : 12); i++) {
        const s = await t.call('POST', `/v1/keys/${name}/sign`, {
          token: signer,
          body: { message: b64(MESSAGE) },
        });
        expect(s.status).toBe(200);
        expect(s.body.keyVersion).toBe(1);
        expect(verifyIndependently(alg, publicKey, unhex(s.body.signature))).toBe(true);
      }
    });
  }

  it('hmac-sha256 signing key: mac equals an independent HMAC of the imported key', async () => {
    const key = randomBytes(32);
    const imported = await t.call('POST', '/v1/keys/import', {
      body: {
        name: 'sig-hmac',
        algorithm: 'hmac-sha256',
        purpose: 'signing',
        privateKey: hex(key),
      },
    });
    expect(imported.status).toBe(201);
    const s = await t.call('POST', '/v1/keys/sig-hmac/sign', {
      token: signer,
      body: { message: b64(MESSAGE) },
    });
    expect(s.status).toBe(200);
    expect(s.body.mac).toBe(hex(hmac(sha256, key, MESSAGE)));
    const v = await t.call('POST', '/v1/keys/sig-hmac/verify', {
      token: signer,
      body: { message: b64(MESSAGE), mac: s.body.mac },
    });
    expect(v.body).toEqual({ valid: true });
    const bad = await t.call('POST', '/v1/keys/sig-hmac/verify', {
      token: signer,
      body: { message: b64('other'), mac: s.body.mac },
    });
    expect(bad.body).toEqual({ valid: false });
    // Signature options are not silently dropped: each is refused by name.
    for (const [route, extra, field] of [
      ['sign', { format: 'recoverable' }, 'format'],
      ['sign', { context: '0x00' }, 'context'],
      ['verify', { mac: s.body.mac, context: '0x00' }, 'context'],
    ] as const) {
      const r = await t.call('POST', `/v1/keys/sig-hmac/${route}`, {
        token: signer,
        body: { message: b64(MESSAGE), ...extra },
      });
      expect([route, r.status, r.body.error?.code]).toEqual([route, 400, 'INVALID_REQUEST']);
      expect(r.body.error.message).toContain(field);
    }
  });

  it('POST /v1/verify: an empty publicKeys list verifies nothing (200), several are BLS only', async () => {
    const body = { message: b64(MESSAGE), signature: hex(new Uint8Array(64)) };
    for (const algorithm of ['ed25519', 'p-256', 'secp256k1', 'ml-dsa-65']) {
      const r = await t.call('POST', '/v1/verify', {
        token: signer,
        body: { ...body, algorithm, publicKeys: [] },
      });
      expect([algorithm, r.status, r.body]).toEqual([algorithm, 200, { valid: false }]);
    }
    const two = await t.call('POST', '/v1/verify', {
      token: signer,
      body: {
        ...body,
        algorithm: 'ed25519',
        publicKeys: [hex(randomBytes(32)), hex(randomBytes(32))],
      },
    });
    expect([two.status, two.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(two.body.error.message).toContain('publicKeys');
  });
});

describe('keys: import', () => {
  const secrets: Record<string, Uint8Array> = {
    secp256k1: secp256k1.utils.randomSecretKey(),
    'p-256': p256.utils.randomSecretKey(),
    ed25519: randomBytes(32),
    'ml-dsa-65': randomBytes(32),
    'bls12-381': unhex('0x263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3'),
    'aes-256-gcm': randomBytes(32),
    'hmac-sha256': randomBytes(32),
  };
  const purposes: Record<string, string> = {
    'bls12-381': 'validator',
    'aes-256-gcm': 'encryption',
    'hmac-sha256': 'derivation',
  };

  for (const alg of ASYMMETRIC) {
    it(`${alg}: the server derives the public key of an imported private key`, async () => {
      const sk = secrets[alg]!;
      const name = `sig-imported-${alg}`;
      const r = await t.call('POST', '/v1/keys/import', {
        body: { name, algorithm: alg, purpose: 'signing', privateKey: hex(sk) },
      });
      expect(r.status).toBe(201);
      const expected =
        alg === 'secp256k1'
          ? secp256k1.getPublicKey(sk, true)
          : alg === 'p-256'
            ? p256.getPublicKey(sk, true)
            : alg === 'ed25519'
              ? ed25519.getPublicKey(sk)
              : ml_dsa65.keygen(sk).publicKey;
      expect(r.body.publicKey).toBe(hex(expected));
      const s = await t.call('POST', `/v1/keys/${name}/sign`, {
        token: signer,
        body: { message: b64(MESSAGE) },
      });
      expect(verifyIndependently(alg, expected, unhex(s.body.signature))).toBe(true);
    });
  }

  it('secp256k1: digest signing, recoverable format, always low-S', async () => {
    const sk = secrets.secp256k1!;
    const pub = secp256k1.getPublicKey(sk, true);
    for (let i = 0; i < 40; i++) {
      const digest = sha256(randomBytes(16));
      const s = await t.call('POST', '/v1/keys/sig-imported-secp256k1/sign', {
        token: signer,
        body: { digest: hex(digest), format: 'recoverable' },
      });
      expect(s.status).toBe(200);
      const sig = unhex(s.body.signature);
      expect(sig).toHaveLength(65);
      expect(secp256k1.verify(sig.slice(0, 64), digest, pub, { prehash: false, lowS: true })).toBe(
        true,
      );
      const recovered = secp256k1.Signature.fromBytes(sig.slice(0, 64), 'compact')
        .addRecoveryBit(sig[64]!)
        .recoverPublicKey(digest)
        .toBytes(true);
      expect(hex(recovered)).toBe(hex(pub));
    }
  });

  it('imported private keys never reach the database unwrapped', async () => {
    for (const [alg, sk] of Object.entries(secrets)) {
      if (ASYMMETRIC.includes(alg as never)) continue;
      const r = await t.call('POST', '/v1/keys/import', {
        body: { name: `raw-${alg}`, algorithm: alg, purpose: purposes[alg], privateKey: hex(sk) },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const dump = await storeDump(t);
    for (const [alg, sk] of Object.entries(secrets)) {
      const needles = [
        Buffer.from(sk),
        Buffer.from(Buffer.from(sk).toString('hex')),
        Buffer.from(Buffer.from(sk).toString('base64')),
      ];
      for (const n of needles)
        expect(dump.includes(n), `${alg} private key found in the store`).toBe(false);
    }
  });
});

describe('keys: lifecycle', () => {
  it('rotate, patch, destroy a version, destroy the key', async () => {
    await t.call('POST', '/v1/keys', {
      body: { name: 'sig-life', algorithm: 'ed25519', purpose: 'signing' },
    });
    const rotated = await t.call('POST', '/v1/keys/sig-life/rotate');
    expect(rotated.body.versions.map((v: { state: string }) => v.state)).toEqual([
      'decrypt-only',
      'active',
    ]);
    const old = rotated.body.versions[0].publicKey;
    const s = await t.call('POST', '/v1/keys/sig-life/sign', {
      token: signer,
      body: { message: b64(MESSAGE) },
    });
    expect(s.body.keyVersion).toBe(2);
    const disabled = await t.call('PATCH', '/v1/keys/sig-life', { body: { enabled: false } });
    expect(disabled.body.enabled).toBe(false);
    expect(
      (
        await t.call('POST', '/v1/keys/sig-life/sign', {
          token: signer,
          body: { message: b64(MESSAGE) },
        })
      ).body.error.code,
    ).toBe('KEY_DISABLED');
    await t.call('PATCH', '/v1/keys/sig-life', { body: { enabled: true } });
    const badMin = await t.call('PATCH', '/v1/keys/sig-life', {
      body: { minDecryptionVersion: 3 },
    });
    expect(badMin.status).toBe(400);
    expect(badMin.body.error.message).toContain('minDecryptionVersion');
    const d1 = await t.call('DELETE', '/v1/keys/sig-life/versions/1');
    expect(d1.body.versions[0]).toMatchObject({ version: 1, state: 'destroyed', publicKey: old });
    const v1 = await t.call('POST', '/v1/keys/sig-life/verify', {
      token: signer,
      body: { message: b64(MESSAGE), signature: s.body.signature, keyVersion: 1 },
    });
    expect(v1.status).toBe(410);
    expect(v1.body.error.code).toBe('KEY_DESTROYED');
    await t.call('DELETE', '/v1/keys/sig-life');
    const after = await t.call('POST', '/v1/keys/sig-life/sign', {
      token: signer,
      body: { message: b64(MESSAGE) },
    });
    expect(after.status).toBe(410);
    expect(
      (await t.call('GET', '/v1/keys/sig-life')).body.versions.every(
        (v: { state: string }) => v.state === 'destroyed',
      ),
    ).toBe(true);
  });

  it('concurrent rotations of one key each add the next version (no 500 on a version race)', async () => {
    expect(
      (
        await t.call('POST', '/v1/keys', {
          body: { name: 'rot-race', algorithm: 'aes-256-gcm', purpose: 'encryption' },
        })
      ).status,
    ).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => t.call('POST', '/v1/keys/rot-race/rotate')),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    const key = await t.call('GET', '/v1/keys/rot-race');
    const versions = key.body.versions as { version: number; state: string }[];
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(versions.filter((v) => v.state === 'active').map((v) => v.version)).toEqual([9]);
    const events = await t.call('GET', '/v1/audit/events?action=key.rotate&limit=100');
    const rotations = (events.body.events as { key: string; keyVersion: number }[])
      .filter((e) => e.key === 'rot-race')
      .map((e) => e.keyVersion)
      .sort((a, b) => a - b);
    expect(rotations).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  /** Every version of `name` is destroyed, and using the key is refused as destroyed. */
  async function expectShredded(name: string): Promise<void> {
    const key = await t.call('GET', `/v1/keys/${name}`);
    expect(key.body.versions.map((v: { state: string }) => v.state)).toEqual(
      key.body.versions.map(() => 'destroyed'),
    );
    const token = await principalToken(t, `enc-${name}`, 'encryption', [name]);
    const use = await t.call('POST', `/v1/keys/${name}/encrypt`, {
      token,
      body: { plaintext: b64('after the destroy') },
    });
    expect([use.status, use.body.error?.code]).toEqual([410, 'KEY_DESTROYED']);
  }

  it('a rotation still waiting on the providers when its key is destroyed adds nothing to it', async () => {
    const name = 'rot-then-destroy';
    await t.call('POST', '/v1/keys', {
      body: { name, algorithm: 'aes-256-gcm', purpose: 'encryption' },
    });
    const keyring = t.kms.services.keyring;
    const wrapForAll = keyring.wrapForAll.bind(keyring);
    const wrapping = gate();
    keyring.wrapForAll = async (...args) => {
      await wrapping.pass();
      return wrapForAll(...args);
    };
    try {
      const rotating = t.call('POST', `/v1/keys/${name}/rotate`);
      await wrapping.reached;
      expect((await t.call('DELETE', `/v1/keys/${name}`)).status).toBe(200);
      wrapping.open();
      const rotated = await rotating;
      expect([rotated.status, rotated.body.error?.code]).toEqual([410, 'KEY_DESTROYED']);
    } finally {
      keyring.wrapForAll = wrapForAll;
    }
    await expectShredded(name);
  });

  it('a destroy destroys a version a rotation committed after the destroy read the key', async () => {
    const name = 'destroy-then-rot';
    await t.call('POST', '/v1/keys', {
      body: { name, algorithm: 'aes-256-gcm', purpose: 'encryption' },
    });
    const keys = t.kms.services.keys;
    const require = keys.require.bind(keys);
    // The destroy reads the key (version 1 only), then a rotation commits version 2.
    keys.require = async (n) => {
      const read = await require(n);
      keys.require = require;
      expect((await t.call('POST', `/v1/keys/${n}/rotate`)).status).toBe(200);
      return read;
    };
    try {
      expect((await t.call('DELETE', `/v1/keys/${name}`)).status).toBe(200);
    } finally {
      keys.require = require;
    }
    const key = await t.call('GET', `/v1/keys/${name}`);
    expect(key.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    await expectShredded(name);
  });

  it('a secret unwrapped while its key is destroyed is not cached after the destroy', async () => {
    const name = 'sig-unwrap-destroy';
    const created = await t.call('POST', '/v1/keys', {
      body: { name, algorithm: 'ml-dsa-65', purpose: 'signing' },
    });
    expect(created.status).toBe(201);
    const record = (await t.kms.services.keyring.get(name))!;
    const provider = t.kms.services.providers.providers[0]!;
    const unwrap = provider.unwrap.bind(provider);
    const unwrapping = gate();
    provider.unwrap = async (...args) => {
      provider.unwrap = unwrap;
      await unwrapping.pass();
      return unwrap(...args);
    };
    let signing: Promise<unknown>;
    try {
      signing = t.call('POST', `/v1/keys/${name}/sign`, {
        token: signer,
        body: { message: b64(MESSAGE) },
      });
      await unwrapping.reached;
      expect((await t.call('DELETE', `/v1/keys/${name}`)).status).toBe(200);
    } finally {
      unwrapping.open();
      provider.unwrap = unwrap;
    }
    await signing;
    const secrets = (t.kms.services.keyring as unknown as { secrets: { get(id: string): unknown } })
      .secrets;
    expect(secrets.get(`${record.id}:1`)).toBeUndefined();
  });

  it('provider is checked by name: only with residency provider, and only a configured one', async () => {
    const create = (extra: object) =>
      t.call('POST', '/v1/keys', {
        body: { name: 'sig-resident', algorithm: 'ed25519', purpose: 'signing', ...extra },
      });
    const configured = t.kms.services.providers.providers[0]!.name;
    for (const extra of [
      { provider: configured },
      { residency: 'provider' },
      { residency: 'provider', provider: 'no-such-hsm' },
    ]) {
      const r = await create(extra);
      expect([JSON.stringify(extra), r.status, r.body.error.code]).toEqual([
        JSON.stringify(extra),
        400,
        'INVALID_REQUEST',
      ]);
      expect(r.body.error.message).toMatch(/^provider /);
    }
    // Provider-resident keys are not implemented (docs/providers.md): refused, never made wrapped.
    const resident = await create({ residency: 'provider', provider: configured });
    expect([resident.status, resident.body.error.code]).toEqual([422, 'UNSUPPORTED']);
    expect((await t.call('GET', '/v1/keys/sig-resident')).status).toBe(404);
  });

  it('refuses duplicate names, wrong purposes and rotation of validator keys', async () => {
    expect(
      (
        await t.call('POST', '/v1/keys', {
          body: { name: 'sig-dup', algorithm: 'p-256', purpose: 'signing' },
        })
      ).status,
    ).toBe(201);
    const dup = await t.call('POST', '/v1/keys', {
      body: { name: 'sig-dup', algorithm: 'p-256', purpose: 'signing' },
    });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'ALREADY_EXISTS']);
    const wrong = await t.call('POST', '/v1/keys', {
      body: { name: 'x', algorithm: 'aes-256-gcm', purpose: 'signing' },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(wrong.body.error.message).toContain('algorithm');
    await t.call('POST', '/v1/keys', {
      body: { name: 'sig-val', algorithm: 'bls12-381', purpose: 'validator' },
    });
    const rot = await t.call('POST', '/v1/keys/sig-val/rotate');
    expect([rot.status, rot.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
    const sign = await t.call('POST', '/v1/keys/sig-val/sign', {
      token: signer,
      body: { message: b64(MESSAGE) },
    });
    expect([sign.status, sign.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
  });

  it('publishes jwks: true keys', async () => {
    await t.call('POST', '/v1/keys', {
      body: { name: 'jwk-ed', algorithm: 'ed25519', purpose: 'signing', jwks: true },
    });
    await t.call('POST', '/v1/keys', {
      body: { name: 'jwk-p256', algorithm: 'p-256', purpose: 'signing', jwks: true },
    });
    await t.call('POST', '/v1/keys', {
      body: { name: 'jwk-ml', algorithm: 'ml-dsa-65', purpose: 'signing', jwks: true },
    });
    const jwks = await t.call('GET', '/.well-known/jwks.json', { token: null });
    expect(jwks.status).toBe(200);
    const byKid = Object.fromEntries(jwks.body.keys.map((k: { kid: string }) => [k.kid, k]));
    expect(byKid['jwk-ed:1']).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(byKid['jwk-p256:1']).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(byKid['jwk-ml:1']).toMatchObject({ kty: 'AKP', alg: 'ML-DSA-65' });
    expect(byKid['sig-dup:1']).toBeUndefined();
  });
});

describe('keys: responses', () => {
  it('key listings never carry private or wrapped material', async () => {
    const list = await t.call('GET', '/v1/keys');
    expect(list.body.keys.length).toBeGreaterThan(5);
    expect(JSON.stringify(list.body)).not.toMatch(/privateKey|"blob"|secret/i);
  });
});
