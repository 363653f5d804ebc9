/**
 * API.md `POST /v1/keys/{name}/derive`: HKDF-Expand keyed by a derivation key, with info
 * `utf8(principal) || 0x00 || utf8(info)`, checked against @noble/hashes from an extractable copy
 * of an imported key; age wrapping; versions; and the `zkms key derive` example of docs/envelope.md.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import {
  Decrypter,
  armor,
  generateHybridIdentity,
  generateX25519Identity,
  identityToRecipient,
} from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { importKey } from './envelope-reference.js';

const MASTER = Uint8Array.from(randomBytes(32));
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let t: TestKms;
let svcA: string;
let svcB: string;

beforeAll(async () => {
  t = await startKms();
  await importKey(t, 'dk', 'hmac-sha256', 'derivation', MASTER);
  await importKey(t, 'ek', 'aes-256-gcm', 'encryption', randomBytes(32));
  svcA = await principalToken(t, 'svc-a', 'encryption', ['dk', 'dk-*', 'ek']);
  svcB = await principalToken(t, 'svc-b', 'encryption', ['dk']);
});
afterAll(async () => {
  await t?.close();
  cleanupTestSoftHsm();
});

/** The reference: HKDF-Expand(master, principal || 0x00 || info, length) with @noble/hashes. */
function reference(master: Uint8Array, principal: string, info: string, length = 32): string {
  const full = Buffer.concat([Buffer.from(principal), Buffer.of(0), Buffer.from(info)]);
  return Buffer.from(expand(sha256, master, full, length)).toString('base64');
}

const derive = (body: object, token = svcA, name = 'dk') =>
  t.call('POST', `/v1/keys/${name}/derive`, { token, body });

describe('derive', () => {
  it('equals HKDF-Expand over principal || 0x00 || info, for the default and other lengths', async () => {
    const r = await derive({ info: 'sqlcipher:main.db' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ key: reference(MASTER, 'svc-a', 'sqlcipher:main.db'), keyVersion: 1 });
    for (const length of [1, 31, 33, 64, 8160]) {
      expect((await derive({ info: 'x', length })).body.key).toBe(
        reference(MASTER, 'svc-a', 'x', length),
      );
    }
    expect((await derive({ info: '' })).body.key).toBe(reference(MASTER, 'svc-a', ''));
    expect((await derive({ info: 'sqlcipher:main.db' })).body.key).toBe(r.body.key);
  });

  it('another info or another principal gives another key', async () => {
    const a = (await derive({ info: 'db' })).body.key;
    const other = (await derive({ info: 'db2' })).body.key;
    const b = (await derive({ info: 'db' }, svcB)).body.key;
    expect(new Set([a, other, b]).size).toBe(3);
    expect(b).toBe(reference(MASTER, 'svc-b', 'db'));
  });

  it('only an admin may name another principal', async () => {
    const forA = await derive({ info: 'db', principal: 'svc-a' }, t.adminToken);
    expect(forA.body.key).toBe(reference(MASTER, 'svc-a', 'db'));
    expect((await derive({ info: 'db' }, t.adminToken)).body.key).toBe(
      reference(MASTER, 'admin', 'db'),
    );
    const stolen = await derive({ info: 'db', principal: 'svc-a' }, svcB);
    expect([stolen.status, stolen.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await derive({ info: 'db', principal: 'svc-b' }, svcB)).body.key).toBe(
      reference(MASTER, 'svc-b', 'db'),
    );
    const bad = await derive({ info: 'db', principal: 'no spaces' }, t.adminToken);
    expect(bad.body.error.message).toMatch(/^principal /);
  });

  it.each([
    ['x25519', generateX25519Identity],
    ['mlkem768x25519', generateHybridIdentity],
  ])(
    'wrapTo an age %s recipient: an armored age file that decrypts to the key',
    async (_n, generate) => {
      const identity = await generate();
      const r = await derive({ info: 'db', wrapTo: await identityToRecipient(identity) });
      expect(r.status).toBe(200);
      expect(r.body.key).toBeUndefined();
      expect(r.body.wrapped).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
      const d = new Decrypter();
      d.addIdentity(identity);
      const key = await d.decrypt(armor.decode(r.body.wrapped));
      expect(Buffer.from(key).toString('base64')).toBe(reference(MASTER, 'svc-a', 'db'));
    },
  );

  it('refuses bad inputs with a 400 naming the field', async () => {
    const lowOrder = bech32.encode('age', bech32.toWords(new Uint8Array(32)));
    const cases: [object, RegExp][] = [
      [{ info: 'x', wrapTo: 'age1notarecipient' }, /^wrapTo /],
      [{ info: 'x', wrapTo: 'ssh-ed25519 AAAA' }, /^wrapTo /],
      [{ info: 'x', wrapTo: lowOrder }, /^wrapTo /],
      [{ info: 'x'.repeat(1025) }, /^info /],
      [{ info: '\u00e9'.repeat(600) }, /^info /],
      [{ info: 'x', length: 0 }, /^length /],
      [{ info: 'x', length: 8161 }, /^length /],
      [{ info: 'x', keyVersion: 9 }, /^keyVersion /],
    ];
    for (const [body, field] of cases) {
      const r = await derive(body);
      expect([JSON.stringify(body).slice(0, 60), r.status, r.body.error.code]).toEqual([
        JSON.stringify(body).slice(0, 60),
        400,
        'INVALID_REQUEST',
      ]);
      expect(r.body.error.message).toMatch(field);
    }
  });

  it("refuses a hybrid wrapTo whose ML-KEM-768 key fails FIPS 203's modulus check", async () => {
    const good = await identityToRecipient(await generateHybridIdentity());
    const { prefix, words } = bech32.decode(good as `${string}1${string}`, false);
    const bytes = bech32.fromWords(words);
    // The first coefficient of the ML-KEM-768 key (it comes first) set to q = 3329.
    bytes[0] = 3329 & 0xff;
    bytes[1] = (bytes[1]! & 0xf0) | (3329 >> 8);
    const bad = bech32.encode(prefix, bech32.toWords(bytes), false);
    expect((await derive({ info: 'x', wrapTo: good })).status).toBe(200);
    const r = await derive({ info: 'x', wrapTo: bad });
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(r.body.error.message).toMatch(/^wrapTo /);
  });

  it('runs the HMAC inside SoftHSM2 and refuses keys of another purpose', async () => {
    const p = t.kms.services.providers.providers[0] as Pkcs11Provider;
    await importKey(t, 'dk-device', 'hmac-sha256', 'derivation', randomBytes(32));
    const before = p.cachedKeyCount;
    expect((await derive({ info: 'x' }, svcA, 'dk-device')).status).toBe(200);
    expect(p.cachedKeyCount).toBe(before + 1);
    const wrong = await derive({ info: 'x' }, svcA, 'ek');
    expect([wrong.status, wrong.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
  });

  it('versions: rotation, keyVersion, minDecryptionVersion and destroy', async () => {
    const m1 = Uint8Array.from(randomBytes(32));
    await importKey(t, 'dk-rot', 'hmac-sha256', 'derivation', m1);
    const v1 = (await derive({ info: 'db' }, svcA, 'dk-rot')).body;
    expect(v1).toEqual({ key: reference(m1, 'svc-a', 'db'), keyVersion: 1 });
    expect((await t.call('POST', '/v1/keys/dk-rot/rotate')).status).toBe(200);
    const v2 = (await derive({ info: 'db' }, svcA, 'dk-rot')).body;
    expect(v2.keyVersion).toBe(2);
    expect(v2.key).not.toBe(v1.key);
    expect((await derive({ info: 'db', keyVersion: 1 }, svcA, 'dk-rot')).body).toEqual(v1);
    await t.call('PATCH', '/v1/keys/dk-rot', { body: { minDecryptionVersion: 2 } });
    const retired = await derive({ info: 'db', keyVersion: 1 }, svcA, 'dk-rot');
    expect([retired.status, retired.body.error.code]).toEqual([409, 'KEY_VERSION_RETIRED']);
    await t.call('DELETE', '/v1/keys/dk-rot/versions/1');
    const destroyed = await derive({ info: 'db', keyVersion: 1 }, svcA, 'dk-rot');
    expect([destroyed.status, destroyed.body.error.code]).toEqual([410, 'KEY_DESTROYED']);
    expect((await derive({ info: 'db' }, svcA, 'dk-rot')).body).toEqual(v2);
  });
});

describe('zkms key derive / key datakey (docs/envelope.md)', () => {
  let url: string;
  beforeAll(async () => {
    await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.kms.app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  const zkms = async (...args: string[]) => {
    const run = promisify(execFile);
    const out = await run(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ZKMS_URL: url, ZKMS_TOKEN: svcA },
      },
    );
    return out.stdout.trim();
  };

  it('prints the sqlcipher raw-key literal of the derived key', async () => {
    const hex = Buffer.from(reference(MASTER, 'svc-a', 'sqlcipher:main.db'), 'base64').toString(
      'hex',
    );
    expect(
      await zkms('key', 'derive', 'dk', '--info', 'sqlcipher:main.db', '--format', 'sqlcipher'),
    ).toBe(`x'${hex}'`);
    expect(
      await zkms('key', 'derive', 'dk', '--info', 'sqlcipher:main.db', '--format', 'hex'),
    ).toBe(hex);
    expect(
      JSON.parse(await zkms('key', 'derive', 'dk', '--info', 'sqlcipher:main.db', '--json')),
    ).toEqual({
      key: reference(MASTER, 'svc-a', 'sqlcipher:main.db'),
      keyVersion: 1,
    });
  });

  it('a missing --info is a usage error (exit 2)', async () => {
    const err = await zkms('key', 'derive', 'dk').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2, stderr: expect.stringMatching(/--info is required/) });
  });

  it('datakey --no-plaintext prints only the wrapped key', async () => {
    const out = JSON.parse(
      await zkms('key', 'datakey', 'ek', '--context', '{"file":"a.bin"}', '--no-plaintext'),
    );
    expect(Object.keys(out).sort()).toEqual(['ciphertext', 'keyVersion']);
    const d = await t.call('POST', '/v1/keys/ek/decrypt', {
      token: svcA,
      body: { ciphertext: out.ciphertext, context: { file: 'a.bin' } },
    });
    expect(Buffer.from(d.body.plaintext, 'base64')).toHaveLength(32);
  });
});
