/** The envelope ciphertext format and context canonicalisation (src/services/envelope-format.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_LIMITS,
  aadOf,
  canonicalContext,
  decodeEnvelope,
  encodeEnvelope,
  headerOf,
} from '../../src/services/envelope-format.js';
import { KmsError } from '../../src/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function refusal(fn: () => unknown): KmsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KmsError) return e;
    throw e;
  }
  throw new Error('expected a KmsError');
}

const text = fc.string({ unit: 'binary', maxLength: 12 });
const entries = fc.uniqueArray(
  fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), text),
  {
    selector: ([k]) => k,
    maxLength: 10,
  },
);

describe('ciphertext bytes', () => {
  it('pins the v1 layout: "ZKE" 01 u32be(version) iv ct||tag', () => {
    const iv = new Uint8Array(12).fill(0xaa);
    const sealed = new Uint8Array(17).fill(0xbb);
    const out = encodeEnvelope({ keyVersion: 258, iv, sealed });
    expect(hex(out)).toBe('5a4b4501' + '00000102' + 'aa'.repeat(12) + 'bb'.repeat(17));
    expect(hex(headerOf(258))).toBe('5a4b450100000102');
  });

  it('round-trips any version, IV and sealed part (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ minLength: 16, maxLength: 300 }),
        (keyVersion, iv, sealed) => {
          const back = decodeEnvelope(encodeEnvelope({ keyVersion, iv, sealed }));
          expect(back.keyVersion).toBe(keyVersion);
          expect(back.iv).toEqual(iv);
          expect(back.sealed).toEqual(sealed);
        },
      ),
    );
  });

  it.each([
    ['too short', '5a4b4501' + '00000001' + '00'.repeat(27)],
    ['another magic', '5a4b4601' + '00000001' + '00'.repeat(28)],
    ['another format', '5a4b4502' + '00000001' + '00'.repeat(28)],
    ['version 0', '5a4b4501' + '00000000' + '00'.repeat(28)],
  ])('refuses %s with DECRYPTION_FAILED and no detail', (_n, h) => {
    const e = refusal(() => decodeEnvelope(bytes(h)));
    expect(e.code).toBe('DECRYPTION_FAILED');
    expect(e.message).toBe('decryption failed');
  });

  it('the encoder never writes another IV size', () => {
    expect(() =>
      encodeEnvelope({ keyVersion: 1, iv: new Uint8Array(16), sealed: new Uint8Array(16) }),
    ).toThrow(/12 bytes/);
    expect(() => headerOf(0)).toThrow(RangeError);
  });
});

describe('context canonicalisation', () => {
  it('pins the encoding of {"b":"2","a":"1"}', () => {
    expect(hex(canonicalContext({ b: '2', a: '1' }))).toBe(
      '00000002' + '00000001' + '61' + '00000001' + '31' + '00000001' + '62' + '00000001' + '32',
    );
  });

  it('an absent context and {} are the same: no entries', () => {
    expect(hex(canonicalContext(undefined))).toBe('00000000');
    expect(canonicalContext({})).toEqual(canonicalContext(undefined));
  });

  it('key order never matters (property)', () => {
    fc.assert(
      fc.property(entries, fc.func(fc.integer()), (list, rank) => {
        const shuffled = [...list].sort((x, y) => rank(x[0]) - rank(y[0]));
        expect(canonicalContext(Object.fromEntries(shuffled))).toEqual(
          canonicalContext(Object.fromEntries(list)),
        );
      }),
    );
  });

  it('different contexts never encode alike (property)', () => {
    fc.assert(
      fc.property(entries, entries, (a, b) => {
        const sameMap =
          a.length === b.length && a.every(([k, v]) => b.some(([k2, v2]) => k2 === k && v2 === v));
        const equal =
          hex(canonicalContext(Object.fromEntries(a))) ===
          hex(canonicalContext(Object.fromEntries(b)));
        expect(equal).toBe(sameMap);
      }),
    );
  });

  it('length prefixes keep {"a":"bc"} and {"ab":"c"} apart', () => {
    expect(canonicalContext({ a: 'bc' })).not.toEqual(canonicalContext({ ab: 'c' }));
  });

  it('sorts keys by their UTF-8 bytes, not by UTF-16 code units', () => {
    // U+1F600 is D83D DE00 in UTF-16 (before U+FB01) but F0 9F 98 80 in UTF-8 (after EF AC 81).
    const out = hex(canonicalContext({ '\u{1F600}': 'x', '\uFB01': 'y' }));
    expect(out.indexOf('efac81')).toBeLessThan(out.indexOf('f09f9880'));
  });

  it.each([
    ['null', null, 'context'],
    ['an array', ['a'], 'context'],
    ['a string', 'a=b', 'context'],
    ['a number value', { a: 1 }, 'context.a'],
    ['a nested object', { a: { b: 'c' } }, 'context.a'],
    ['an empty key', { '': 'x' }, 'context'],
    ['a lone surrogate in a value', { a: '\uD800' }, 'context.a'],
    ['a lone surrogate in a key', { '\uDC00': 'x' }, 'context'],
    ['a long value', { a: 'x'.repeat(CONTEXT_LIMITS.valueChars + 1) }, 'context.a'],
    ['a long key', { ['k'.repeat(CONTEXT_LIMITS.keyChars + 1)]: 'x' }, 'context'],
    [
      'too many entries',
      Object.fromEntries(
        Array.from({ length: CONTEXT_LIMITS.entries + 1 }, (_, i) => [`k${i}`, 'v']),
      ),
      'context',
    ],
  ])('refuses %s with a 400 naming the field', (_n, value, field) => {
    const e = refusal(() => canonicalContext(value));
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.message.startsWith(`${field} `)).toBe(true);
  });
});

describe('associated data', () => {
  it('binds the key name, the version and the context', () => {
    const ctx = canonicalContext({ a: '1' });
    const base = aadOf('k1', 1, ctx);
    expect(Buffer.from(base).subarray(0, 20).toString()).toBe('zoo-kms/envelope/v1\0');
    expect(aadOf('k2', 1, ctx)).not.toEqual(base);
    expect(aadOf('k1', 2, ctx)).not.toEqual(base);
    expect(aadOf('k1', 1, canonicalContext({ a: '2' }))).not.toEqual(base);
  });

  it('the name is length-prefixed, so name and context cannot trade bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        entries,
        entries,
        (n1, n2, c1, c2) => {
          const a = hex(aadOf(n1, 1, canonicalContext(Object.fromEntries(c1))));
          const b = hex(aadOf(n2, 1, canonicalContext(Object.fromEntries(c2))));
          if (a === b) expect(n1).toBe(n2);
        },
      ),
    );
  });
});
