/** AES-256-GCM against Wycheproof (256-bit keys, 96-bit IVs, 128-bit tags) and the IV rule. */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcmOpen, aesGcmSeal, newGcmIv } from '../../src/crypto/aead.js';
import { IntegrityError } from '../../src/providers/provider.js';
import { hex, readJson, type WycheproofFile } from './vectors.js';

type G = { keySize: number; ivSize: number; tagSize: number };
const data = readJson<WycheproofFile<G>>('wycheproof', 'aes_gcm_test.json');
const groups = data.testGroups.filter((g) => g.keySize === 256 && g.tagSize === 128);
const field = (t: Record<string, unknown>, k: string) => hex(t[k] as string);

describe('Wycheproof aes_gcm, keySize 256, ivSize 96, tagSize 128', () => {
  const tests = groups.filter((g) => g.ivSize === 96).flatMap((g) => g.tests);
  it('includes invalid cases', () => expect(tests.some((t) => t.result === 'invalid')).toBe(true));

  it.each(tests.map((t) => [`${t.tcId} ${t.comment}`, t] as const))('tc %s', (_n, t) => {
    const [key, iv, aad, msg] = ['key', 'iv', 'aad', 'msg'].map((k) => field(t, k)) as Uint8Array[];
    const sealed = Uint8Array.of(...field(t, 'ct'), ...field(t, 'tag'));
    if (t.result === 'invalid') {
      expect(() => aesGcmOpen(key!, iv!, sealed, aad)).toThrow(IntegrityError);
      return;
    }
    expect(aesGcmSeal(key!, iv!, msg!, aad)).toEqual(sealed);
    expect(aesGcmOpen(key!, iv!, sealed, aad)).toEqual(msg);
  });
});

describe('IV sizes other than 96 bits are refused', () => {
  const tests = groups.filter((g) => g.ivSize !== 96).flatMap((g) => g.tests);
  it('the file has such cases', () => expect(tests.length).toBeGreaterThan(0));

  it.each(tests.map((t) => [`${t.tcId} iv ${(t.iv as string).length / 2} bytes`, t] as const))(
    'tc %s',
    (_n, t) => {
      const key = field(t, 'key');
      const iv = field(t, 'iv');
      expect(() => aesGcmSeal(key, iv, field(t, 'msg'))).toThrow(/IV must be 12 bytes/);
      const sealed = Uint8Array.of(...field(t, 'ct'), ...field(t, 'tag'));
      expect(() => aesGcmOpen(key, iv, sealed)).toThrow(/IV must be 12 bytes/);
    },
  );

  it('an empty IV is refused (SoftHSM2 would accept it)', () => {
    expect(() => aesGcmSeal(new Uint8Array(32), new Uint8Array(), Uint8Array.of(1))).toThrow(
      RangeError,
    );
  });
});

describe('seal and open', () => {
  const key = new Uint8Array(32).fill(7);

  it('round-trips with AAD; a wrong AAD, key, or a short input fails integrity', () => {
    const iv = newGcmIv();
    expect(iv).toHaveLength(12);
    const aad = new TextEncoder().encode('context');
    const sealed = aesGcmSeal(key, iv, new TextEncoder().encode('secret'), aad);
    expect(new TextDecoder().decode(aesGcmOpen(key, iv, sealed, aad))).toBe('secret');
    expect(() => aesGcmOpen(key, iv, sealed)).toThrow(IntegrityError);
    expect(() => aesGcmOpen(new Uint8Array(32), iv, sealed, aad)).toThrow(IntegrityError);
    expect(() => aesGcmOpen(key, iv, sealed.subarray(0, 15), aad)).toThrow(IntegrityError);
  });

  it('IVs are 12 bytes, all different, and each its own copy (across pool refills)', () => {
    const ivs = Array.from({ length: 2000 }, () => newGcmIv());
    expect(ivs.every((iv) => iv.length === 12 && iv.byteOffset === 0)).toBe(true);
    expect(new Set(ivs.map((iv) => Buffer.from(iv).toString('hex'))).size).toBe(2000);
    const before = Buffer.from(ivs[1]!).toString('hex');
    ivs[0]!.fill(0);
    expect(Buffer.from(ivs[1]!).toString('hex')).toBe(before);
    expect(Buffer.from(newGcmIv()).equals(Buffer.alloc(12))).toBe(false);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => aesGcmSeal(new Uint8Array(16), newGcmIv(), Uint8Array.of(1))).toThrow(
      /key must be 32/,
    );
  });
});

describe('the addon against node:crypto (the same OpenSSL, through createCipheriv)', () => {
  const reference = (key: Uint8Array, iv: Uint8Array, msg: Uint8Array, aad: Uint8Array) => {
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(aad);
    return Buffer.concat([c.update(msg), c.final(), c.getAuthTag()]);
  };

  it.each([0, 1, 15, 16, 17, 1024, 4099, 65_537])(
    '%i-byte plaintexts, AAD of 0 to 300 bytes',
    (n) => {
      for (const aadLength of [0, 1, 80, 300]) {
        const [key, iv, msg, aad] = [32, 12, n, aadLength].map((l) => randomBytes(l));
        const sealed = aesGcmSeal(key!, iv!, msg!, aad);
        expect(Buffer.from(sealed).equals(reference(key!, iv!, msg!, aad!))).toBe(true);
        expect(Buffer.from(aesGcmOpen(key!, iv!, sealed, aad)).equals(msg!)).toBe(true);
      }
    },
  );

  it('reads views at their offsets, and answers in an ArrayBuffer of its own', () => {
    const backing = randomBytes(32 + 12 + 100 + 20 + 7);
    const key = backing.subarray(3, 35);
    const iv = backing.subarray(35, 47);
    const msg = backing.subarray(47, 147);
    const aad = backing.subarray(147, 167);
    const sealed = aesGcmSeal(key, iv, msg, aad);
    expect(Buffer.from(sealed).equals(reference(key, iv, msg, aad))).toBe(true);
    expect([sealed.byteOffset, sealed.buffer.byteLength]).toEqual([0, 116]);
    const inside = new Uint8Array(200);
    inside.set(sealed, 50);
    const opened = aesGcmOpen(key, iv, inside.subarray(50, 166), aad);
    expect(Buffer.from(opened).equals(msg)).toBe(true);
    expect([opened.byteOffset, opened.buffer.byteLength]).toEqual([0, 100]);
  });

  it('every flipped bit of the ciphertext, the tag or the AAD fails integrity', () => {
    const [key, iv, msg, aad] = [32, 12, 40, 9].map((l) => randomBytes(l));
    const sealed = aesGcmSeal(key!, iv!, msg!, aad);
    for (let bit = 0; bit < sealed.length * 8; bit += 7) {
      const bad = Uint8Array.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => aesGcmOpen(key!, iv!, bad, aad)).toThrow(IntegrityError);
    }
    for (let bit = 0; bit < aad!.length * 8; bit += 5) {
      const bad = Uint8Array.from(aad!);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => aesGcmOpen(key!, iv!, sealed, bad)).toThrow(IntegrityError);
    }
  });

  it('refuses arguments that are not Uint8Arrays with a TypeError', () => {
    const key = new Uint8Array(32);
    const iv = new Uint8Array(12);
    expect(() => aesGcmSeal(key, iv, new Uint16Array(4) as never)).toThrow(TypeError);
    expect(() => aesGcmSeal(key, iv, Uint8Array.of(1), 'aad' as never)).toThrow(TypeError);
    expect(() =>
      aesGcmOpen(key, iv, new Uint8Array(20), new DataView(new ArrayBuffer(2)) as never),
    ).toThrow(TypeError);
  });
});
