/**
 * API.md "Encryption, data keys, derived keys": encrypt, decrypt, rewrap and datakey over HTTP on
 * the real KMS (SoftHSM2 doing AES-GCM inside), with the version rules, scopes and audit.
 * Derivation is in envelope-derive.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { b64, importKey, referenceOpen, referenceSeal } from './envelope-reference.js';

const AES_KEY = Uint8Array.from(randomBytes(32));
let t: TestKms;
let enc: string;

beforeAll(async () => {
  t = await startKms();
  await importKey(t, 'ek', 'aes-256-gcm', 'encryption', AES_KEY);
  for (const body of [
    { name: 'ek2', algorithm: 'aes-256-gcm', purpose: 'encryption' },
    { name: 'dk', algorithm: 'hmac-sha256', purpose: 'derivation' },
    { name: 'sk', algorithm: 'p-256', purpose: 'signing' },
  ]) {
    expect((await t.call('POST', '/v1/keys', { body })).status).toBe(201);
  }
  enc = await principalToken(t, 'svc-a', 'encryption', ['ek', 'ek2', 'dk', 'sk', 'rot-*']);
});
afterAll(async () => {
  await t?.close();
  cleanupTestSoftHsm();
});

const encrypt = (name: string, body: object, token = enc) =>
  t.call('POST', `/v1/keys/${name}/encrypt`, { token, body });
const decrypt = (name: string, body: object, token = enc) =>
  t.call('POST', `/v1/keys/${name}/decrypt`, { token, body });
const rewrap = (name: string, body: object, token = enc) =>
  t.call('POST', `/v1/keys/${name}/rewrap`, { token, body });

function expectDecryptionFailed(r: {
  status: number;
  body: { error: { code: string; message: string } };
}): void {
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe('DECRYPTION_FAILED');
  expect(r.body.error.message).toBe('decryption failed');
}

describe('encrypt and decrypt', () => {
  it.each([0, 1, 1024, 1024 * 1024])(
    'round-trips %i bytes, in the documented format',
    async (size) => {
      const plaintext = randomBytes(size);
      const e = await encrypt('ek', { plaintext: b64(plaintext) });
      expect(e.status).toBe(200);
      expect(e.body.keyVersion).toBe(1);
      expect(referenceOpen(AES_KEY, 'ek', e.body.ciphertext).plaintext.equals(plaintext)).toBe(
        true,
      );
      const d = await decrypt('ek', { ciphertext: e.body.ciphertext });
      expect(d.status).toBe(200);
      expect(Buffer.from(d.body.plaintext, 'base64').equals(plaintext)).toBe(true);
    },
  );

  it('decrypts a ciphertext built from docs/envelope.md alone', async () => {
    const ct = referenceSeal(AES_KEY, 'ek', 1, Buffer.from('from the spec'), {
      tenant: 't1',
      field: 'email',
    });
    const d = await decrypt('ek', { ciphertext: ct, context: { field: 'email', tenant: 't1' } });
    expect(Buffer.from(d.body.plaintext, 'base64').toString()).toBe('from the spec');
  });

  it('runs AES-GCM inside SoftHSM2: the unwrapped key becomes a cached device object', async () => {
    const p = t.kms.services.providers.providers[0] as Pkcs11Provider;
    expect(p.capabilities.aesGcm).toBe(true);
    const created = await t.call('POST', '/v1/keys', {
      body: { name: 'rot-device', algorithm: 'aes-256-gcm', purpose: 'encryption' },
    });
    expect(created.status).toBe(201);
    const before = p.cachedKeyCount;
    expect((await encrypt('rot-device', { plaintext: b64(Buffer.from('x')) })).status).toBe(200);
    expect(p.cachedKeyCount).toBe(before + 1);
  });

  it('200 concurrent round trips on a fresh key', async () => {
    const body = { name: 'rot-concurrent', algorithm: 'aes-256-gcm', purpose: 'encryption' };
    expect((await t.call('POST', '/v1/keys', { body })).status).toBe(201);
    const plaintexts = Array.from({ length: 200 }, () => randomBytes(64));
    const sealed = await Promise.all(
      plaintexts.map((p) => encrypt(body.name, { plaintext: b64(p) })),
    );
    const opened = await Promise.all(
      sealed.map((r) => decrypt(body.name, { ciphertext: r.body.ciphertext })),
    );
    opened.forEach((r, i) =>
      expect(Buffer.from(r.body.plaintext, 'base64').equals(plaintexts[i]!)).toBe(true),
    );
  });

  it('refuses a plaintext over 1 MiB with a 400 naming plaintext', async () => {
    const r = await encrypt('ek', { plaintext: b64(randomBytes(1024 * 1024 + 1)) });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_REQUEST');
    expect(r.body.error.message).toMatch(/^plaintext must be at most 1048576 bytes/);
  });

  it('refuses bad base64 and bad contexts naming the field', async () => {
    const bad = await encrypt('ek', { plaintext: 'not base64!' });
    expect(bad.body.error.message).toMatch(/^plaintext /);
    const nested = await encrypt('ek', { plaintext: '', context: { a: { b: 'c' } } });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toMatch(/^context\.a /);
    const notB64 = await decrypt('ek', { ciphertext: '%%%' });
    expect(notB64.body.error.message).toMatch(/^ciphertext /);
  });
});

describe('context and tampering', () => {
  let ct: string;
  beforeAll(async () => {
    ct = (
      await encrypt('ek', {
        plaintext: b64(Buffer.from('secret field')),
        context: { a: '1', b: '2' },
      })
    ).body.ciphertext;
  });

  it('{"a":"1","b":"2"} and {"b":"2","a":"1"} are the same context', async () => {
    const d = await decrypt('ek', { ciphertext: ct, context: { b: '2', a: '1' } });
    expect(d.status).toBe(200);
    expect(Buffer.from(d.body.plaintext, 'base64').toString()).toBe('secret field');
  });

  it.each([
    ['another value', { a: '1', b: '3' }],
    ['an extra entry', { a: '1', b: '2', c: '3' }],
    ['a missing entry', { a: '1' }],
    ['no context', undefined],
    ['an empty context', {}],
  ])('%s: 400 DECRYPTION_FAILED', async (_n, context) => {
    expectDecryptionFailed(
      await decrypt('ek', { ciphertext: ct, ...(context ? { context } : {}) }),
    );
  });

  it('another key: 400 DECRYPTION_FAILED', async () => {
    expectDecryptionFailed(await decrypt('ek2', { ciphertext: ct, context: { a: '1', b: '2' } }));
  });

  it('a flipped bit anywhere (header, version, IV, body, tag): 400 DECRYPTION_FAILED', async () => {
    const raw = Buffer.from(ct, 'base64');
    for (const [byte, bit] of [
      [0, 0],
      [3, 0],
      [7, 1],
      [8, 7],
      [21, 3],
      [raw.length - 1, 0],
    ] as const) {
      const flipped = Buffer.from(raw);
      flipped[byte] = flipped[byte]! ^ (1 << bit);
      expectDecryptionFailed(
        await decrypt('ek', {
          ciphertext: flipped.toString('base64'),
          context: { a: '1', b: '2' },
        }),
      );
    }
    expectDecryptionFailed(
      await decrypt('ek', { ciphertext: raw.subarray(0, 30).toString('base64') }),
    );
  });
});

describe('datakey', () => {
  it('returns a 32-byte key whose wrapped form decrypts to it', async () => {
    const r = await t.call('POST', '/v1/keys/ek/datakey', {
      token: enc,
      body: { context: { use: 'file-7' } },
    });
    expect(r.status).toBe(200);
    const plain = Buffer.from(r.body.plaintext, 'base64');
    expect(plain).toHaveLength(32);
    const d = await decrypt('ek', { ciphertext: r.body.ciphertext, context: { use: 'file-7' } });
    expect(Buffer.from(d.body.plaintext, 'base64').equals(plain)).toBe(true);
    expectDecryptionFailed(await decrypt('ek', { ciphertext: r.body.ciphertext }));
  });

  it('plaintext:false leaves the field out entirely; bytes sets the size', async () => {
    const r = await t.call('POST', '/v1/keys/ek/datakey', {
      token: enc,
      body: { plaintext: false, bytes: 64 },
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['ciphertext', 'keyVersion']);
    expect(r.body.plaintext).toBeUndefined();
    const d = await decrypt('ek', { ciphertext: r.body.ciphertext });
    expect(Buffer.from(d.body.plaintext, 'base64')).toHaveLength(64);
  });

  it('a request with no body at all takes every default (API.md: all its fields are optional)', async () => {
    const r = await t.call('POST', '/v1/keys/ek/datakey', { token: enc });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body.plaintext, 'base64')).toHaveLength(32);
    const sent = await t.call('POST', '/v1/keys/ek/datakey', {
      token: enc,
      body: 'null',
      headers: { 'content-type': 'application/json' },
    });
    expect([sent.status, sent.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
  });

  it.each([0, 1025])('bytes %i: 400 naming bytes', async (bytes) => {
    const r = await t.call('POST', '/v1/keys/ek/datakey', { token: enc, body: { bytes } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^bytes /);
  });
});

describe('versions: rotation, rewrap, minDecryptionVersion, disable, destroy', () => {
  const name = 'rot-1';
  const admin = (method: string, url: string, body?: object) =>
    t.call(method, url, body ? { body } : {});

  it('behave as API.md "Keys" documents', async () => {
    expect(
      (await admin('POST', '/v1/keys', { name, algorithm: 'aes-256-gcm', purpose: 'encryption' }))
        .status,
    ).toBe(201);
    const plaintext = b64(Buffer.from('rotating'));
    const ct1 = (await encrypt(name, { plaintext })).body.ciphertext;
    expect(
      (await admin('POST', `/v1/keys/${name}/rotate`)).body.versions.map(
        (v: { state: string }) => v.state,
      ),
    ).toEqual(['decrypt-only', 'active']);

    const e2 = await encrypt(name, { plaintext });
    expect(e2.body.keyVersion).toBe(2);
    expect((await decrypt(name, { ciphertext: ct1 })).body.plaintext).toBe(plaintext);
    const rw = await rewrap(name, { ciphertext: ct1 });
    expect(rw.status).toBe(200);
    expect(rw.body.keyVersion).toBe(2);
    expect((await decrypt(name, { ciphertext: rw.body.ciphertext })).body.plaintext).toBe(
      plaintext,
    );

    expect((await admin('PATCH', `/v1/keys/${name}`, { minDecryptionVersion: 2 })).status).toBe(
      200,
    );
    for (const r of [
      await decrypt(name, { ciphertext: ct1 }),
      await rewrap(name, { ciphertext: ct1 }),
    ]) {
      expect([r.status, r.body.error.code]).toEqual([409, 'KEY_VERSION_RETIRED']);
    }
    expect((await decrypt(name, { ciphertext: e2.body.ciphertext })).body.plaintext).toBe(
      plaintext,
    );

    expect((await admin('DELETE', `/v1/keys/${name}/versions/1`)).status).toBe(200);
    const gone = await decrypt(name, { ciphertext: ct1 });
    expect([gone.status, gone.body.error.code]).toEqual([410, 'KEY_DESTROYED']);

    expect((await admin('PATCH', `/v1/keys/${name}`, { enabled: false })).status).toBe(200);
    for (const r of [
      await encrypt(name, { plaintext }),
      await decrypt(name, { ciphertext: e2.body.ciphertext }),
    ]) {
      expect([r.status, r.body.error.code]).toEqual([409, 'KEY_DISABLED']);
    }
    expect((await admin('PATCH', `/v1/keys/${name}`, { enabled: true })).status).toBe(200);

    expect((await admin('DELETE', `/v1/keys/${name}`)).status).toBe(200);
    for (const r of [
      await encrypt(name, { plaintext }),
      await decrypt(name, { ciphertext: e2.body.ciphertext }),
    ]) {
      expect([r.status, r.body.error.code]).toEqual([410, 'KEY_DESTROYED']);
    }
  });
});

describe('who may call', () => {
  it('wrong purpose: 422 WRONG_PURPOSE', async () => {
    for (const name of ['dk', 'sk']) {
      const r = await encrypt(name, { plaintext: '' });
      expect([r.status, r.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
    }
  });

  it('another role gets 403, admin passes; out of scope is 403 whether or not the key exists', async () => {
    const signer = await principalToken(t, 'signer', 'signing', ['ek']);
    const narrow = await principalToken(t, 'narrow', 'encryption', ['other-*']);
    const bodies = {
      encrypt: { plaintext: '' },
      decrypt: { ciphertext: 'AAAA' },
      rewrap: { ciphertext: 'AAAA' },
      datakey: {},
      derive: { info: 'x' },
    };
    for (const [route, body] of Object.entries(bodies)) {
      const r = await t.call('POST', `/v1/keys/ek/${route}`, { token: signer, body });
      expect([route, r.status, r.body.error.code]).toEqual([route, 403, 'FORBIDDEN']);
    }
    for (const name of ['ek', 'missing']) {
      const r = await encrypt(name, { plaintext: '' }, narrow);
      expect([r.status, r.body.error.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await encrypt('other-missing', { plaintext: '' }, narrow)).status).toBe(404);
    expect((await encrypt('ek', { plaintext: '' }, t.adminToken)).status).toBe(200);
  });
});
