/**
 * The experience ciphertext string, its associated data and the user-key derivation
 * (docs/experience.md): pinned examples, strict parsing (one spelling per ciphertext), property
 * round trips, and the derivation against @noble/hashes.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  associatedData,
  maxCiphertextLength,
  parse,
  serialize,
  type Sealed,
} from '../../src/services/experience/format.js';
import { deriveUserKey, experienceInfo } from '../../src/services/experience/derivation.js';
import { checkContext, checkUser, userHashHex } from '../../src/services/experience/input.js';

const iv = Uint8Array.from({ length: 12 }, (_, i) => i);
const body = Uint8Array.from({ length: 17 }, (_, i) => 0xf0 + (i % 16));
const example: Sealed = { keyVersion: 3, generation: 2, iv, body };
const EXAMPLE = `zoo-exp:1:3:2:${Buffer.concat([iv, body]).toString('base64')}`;

const sealedArb = fc.record({
  keyVersion: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  generation: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  iv: fc.uint8Array({ minLength: 12, maxLength: 12 }),
  body: fc.uint8Array({ minLength: 16, maxLength: 300 }),
});

const same = (a: Sealed, b: Sealed) =>
  a.keyVersion === b.keyVersion &&
  a.generation === b.generation &&
  Buffer.from(a.iv).equals(Buffer.from(b.iv)) &&
  Buffer.from(a.body).equals(Buffer.from(b.body));

describe('ciphertext format', () => {
  it('serializes the documented form and parses it back', () => {
    expect(serialize(example)).toBe(EXAMPLE);
    expect(EXAMPLE).toBe('zoo-exp:1:3:2:AAECAwQFBgcICQoL8PHy8/T19vf4+fr7/P3+//A=');
    const p = parse(EXAMPLE)!;
    expect(same(p, example)).toBe(true);
  });

  it('round trips (property)', () => {
    fc.assert(
      fc.property(sealedArb, (s) => {
        const text = serialize(s);
        expect(text.length).toBeLessThanOrEqual(maxCiphertextLength(s.body.length - 16));
        expect(same(parse(text)!, s)).toBe(true);
      }),
    );
  });

  it('has one spelling: any changed character never parses to the same ciphertext (property)', () => {
    fc.assert(
      fc.property(sealedArb, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (s, at, code) => {
        const text = serialize(s);
        const i = at % text.length;
        if (text.charCodeAt(i) === code) return;
        const changed = parse(text.slice(0, i) + String.fromCharCode(code) + text.slice(i + 1));
        expect(changed === undefined || !same(changed, s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every other shape', () => {
    const b = EXAMPLE.split(':')[4]!;
    const bad = [
      '',
      `zoo-exp:2:3:2:${b}`,
      `ZOO-EXP:1:3:2:${b}`,
      `zoo-exp:1:03:2:${b}`,
      `zoo-exp:1:0:2:${b}`,
      `zoo-exp:1:3:0:${b}`,
      `zoo-exp:1:2147483648:2:${b}`,
      `zoo-exp:1:3:2:${b}:`,
      `zoo-exp:1:3:${b}`,
      `zoo-exp:1:3:2:${b.replace(/=$/, '')}`,
      `zoo-exp:1:3:2:${b.replace(/A=$/, 'B=')}`, // non-zero pad bits
      `zoo-exp:1:3:2: ${b}`,
      `zoo-exp:1:3:2:${Buffer.alloc(27).toString('base64')}`, // shorter than IV + tag
      `zoo-exp:1:+3:2:${b}`,
    ];
    for (const text of bad) expect(parse(text), text).toBeUndefined();
    expect(parse(`zoo-exp:1:2147483647:1:${Buffer.alloc(28).toString('base64')}`)?.keyVersion).toBe(
      2 ** 31 - 1,
    );
  });

  it('binds user id, version, generation and context in length-prefixed associated data', () => {
    const aad = Buffer.from(associatedData('ab', 3, 2, 'c'));
    expect(aad.toString('hex')).toBe(
      Buffer.concat([
        Buffer.from('zoo-kms/experience/v1'),
        Buffer.from('00000003' + '00000002' + '00000002', 'hex'),
        Buffer.from('ab'),
        Buffer.from('00000001', 'hex'),
        Buffer.from('c'),
      ]).toString('hex'),
    );
    expect(aad.equals(Buffer.from(associatedData('a', 3, 2, 'bc')))).toBe(false);
    expect(
      Buffer.from(associatedData('u', 1, 1)).equals(Buffer.from(associatedData('u', 1, 1, ''))),
    ).toBe(true);
  });

  it('lays out associated data as the concatenation of its parts (property)', () => {
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        (user, v, g, ctx) => {
          const u = Buffer.from(user);
          const c = Buffer.from(ctx);
          const parts = [Buffer.from('zoo-kms/experience/v1'), u32(v), u32(g), u32(u.length)];
          const expected = Buffer.concat([...parts, u, u32(c.length), c]);
          expect(Buffer.from(associatedData(user, v, g, ctx)).equals(expected)).toBe(true);
        },
      ),
    );
    expect(() => associatedData('u', 1.5, 1)).toThrow(RangeError);
    expect(() => associatedData('u', 1, -1)).toThrow(RangeError);
  });
});

describe('user key derivation', () => {
  it('is HKDF-Expand keyed by the master over "zoo:experience:v{v}:" || salt || userId', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ minLength: 1 }),
        async (master, v, salt, userId) => {
          const info = experienceInfo(v, salt, userId);
          expect(
            Buffer.from(info).equals(
              Buffer.concat([
                Buffer.from(`zoo:experience:v${v}:`),
                salt,
                Buffer.from(userId, 'utf8'),
              ]),
            ),
          ).toBe(true);
          const hmac = async (data: Uint8Array) =>
            new Uint8Array(createHmac('sha256', master).update(data).digest());
          const key = await deriveUserKey(hmac, v, Uint8Array.from(salt), userId);
          expect(Buffer.from(key).equals(Buffer.from(expand(sha256, master, info, 32)))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('experience inputs', () => {
  it('takes 1 to 256 printable characters as user ids', () => {
    for (const ok of ['u', 'did:lux:122:0xabc', 'x'.repeat(256), 'ünïcødé 用户 😀', ' '])
      expect(checkUser('userId', ok).id).toBe(ok);
    for (const bad of ['', 'x'.repeat(257), 'a\nb', 'a\u0000', 'a\u200db', 'a\ud800', '\u00ad'])
      expect(() => checkUser('userId', bad)).toThrow(/^userId /);
    expect(checkUser('userId', 'abc').hashHex).toBe(
      '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('hashes any user id as SHA-256 of its UTF-8, lone surrogates included (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
        (id) => {
          const expected = createHash('sha256').update(id, 'utf8').digest('hex');
          expect(userHashHex(id)).toBe(`0x${expected}`);
        },
      ),
    );
    const user = checkUser('userId', 'abc', userHashHex('abc'));
    expect(Buffer.from(user.hash).toString('hex')).toBe(user.hashHex.slice(2));
  });

  it('takes contexts up to 256 characters, absent meaning empty', () => {
    expect(checkContext('context', undefined)).toBe('');
    expect(checkContext('context', '😀'.repeat(256))).toBe('😀'.repeat(256));
    expect(() => checkContext('context', 'c'.repeat(257))).toThrow(/^context /);
    expect(() => checkContext('context', 'a\udc00')).toThrow(/^context /);
  });
});
