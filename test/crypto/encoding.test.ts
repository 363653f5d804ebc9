import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  moveBytes,
  parseBase64,
  parseHex,
  parseU32,
  parseU64,
  toBase64,
  toBase64Url,
  toHex,
  u32be,
  u64be,
  u64ToString,
} from '../../src/crypto/encoding.js';
import { invalid, isKmsError } from '../../src/errors.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKmsError(e) && e.code === 'INVALID_REQUEST' && e.status === 400) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('parseHex', () => {
  it.each([
    ['0x', undefined, []],
    ['0x00ff10', undefined, [0, 255, 16]],
    ['0xabcd', 2, [0xab, 0xcd]],
  ])('%s accepted', (s, n, bytes) => expect(parseHex('f', s, n)).toEqual(Uint8Array.from(bytes)));

  it.each([
    ['missing 0x', 'abcd', undefined],
    ['uppercase', '0xABCD', undefined],
    ['uppercase prefix', '0Xabcd', undefined],
    ['odd length', '0xabc', undefined],
    ['not hex', '0xzz', undefined],
    ['whitespace', '0xab cd', undefined],
    ['trailing newline', '0xabcd\n', undefined],
    ['wrong length', '0xabcd', 32],
    ['number', 12, undefined],
    ['null', null, undefined],
  ])('%s refused naming the field', (_n, s, bytes) => {
    expect(refusal(() => parseHex('blockHash', s, bytes))).toMatch(/^blockHash /);
  });
});

describe('parseBase64', () => {
  it.each([
    ['', []],
    ['AA==', [0]],
    ['AAE=', [0, 1]],
    ['AAEC', [0, 1, 2]],
    ['+/8=', [0xfb, 0xff]],
  ])('%s accepted', (s, bytes) => expect(parseBase64('f', s)).toEqual(Uint8Array.from(bytes)));

  it.each([
    ['missing padding', 'AA'],
    ['bad padding', 'AA='],
    ['too much padding', 'AA==='],
    ['padding inside', 'AA==AA=='],
    ['non-zero pad bits', 'AB=='],
    ['non-zero pad bits (2)', 'AAF='],
    ['base64url alphabet', '-_8='],
    ['whitespace', 'AA AA'],
    ['newline', 'AAAA\n'],
    ['not a string', 5],
  ])('%s refused', (_n, s) => {
    expect(refusal(() => parseBase64('plaintext', s))).toMatch(/^plaintext /);
  });

  it('checks an exact length', () => {
    expect(refusal(() => parseBase64('key', 'AAEC', 32))).toBe('key must be 32 bytes');
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(parseBase64('f', toBase64(b))).toEqual(b);
        expect(parseHex('f', toHex(b))).toEqual(b);
      }),
    );
  });
});

/** The parser as it was, regex first: the fast one must accept and refuse exactly the same. */
function regexParseBase64(field: string, value: unknown): Uint8Array {
  if (
    typeof value !== 'string' ||
    !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)
  ) {
    throw invalid(field, 'must be standard padded base64');
  }
  const buf = Buffer.from(value, 'base64');
  if (buf.toString('base64') !== value) throw invalid(field, 'must be canonical base64');
  return Uint8Array.from(buf);
}

function outcome(parse: (f: string, v: unknown) => Uint8Array, v: unknown): string {
  try {
    return `ok ${Buffer.from(parse('f', v)).toString('hex')}`;
  } catch (e) {
    return `refused ${refusal(() => {
      throw e;
    })}`;
  }
}

describe('parseBase64 against the regex-based parser', () => {
  const sameAsRegex = (v: unknown): void => {
    expect(outcome(parseBase64, v)).toBe(outcome(regexParseBase64, v));
  };
  // Near-base64 characters: the alphabet, padding, base64url, whitespace, a NUL, non-ASCII (and
  // the halves of a surrogate pair, as split('') leaves them).
  const near = fc.constantFrom(...'AQgw+/=-_ \n\t\r\u0000.é€😀'.split(''), 'A', 'z', '9', '=', '=');
  const mutate = (text: string, at: number, ch: string, op: number): string => {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    if (op === 0) return text.slice(0, i) + ch + text.slice(i + 1); // replace
    if (op === 1) return text.slice(0, i) + ch + text.slice(i); // insert
    return text.slice(0, i) + text.slice(i + 1); // delete
  };

  it.each([
    '',
    '=',
    '==',
    '===',
    '====',
    'A',
    'AA',
    'AAA',
    'A===',
    'AA=A',
    'A=AA',
    '=AAA',
    'AA==AA==',
    'AAA=AAA=',
    'AB==',
    'AAB=',
    'AAE=',
    'AA==',
    '////',
    '++++',
    '-___',
    'AAAA====',
    'AAAA\n',
    ' AAAA',
    'AA\u0000A',
    'ÀAAA',
    'AAAA\u0100',
    'AA==\n',
    '😀😀',
    'QUJD\r\n',
    'QUJD',
    'QUI=',
  ])('%j', (v) => sameAsRegex(v));

  it('agrees on random strings over near-base64 characters (property)', () => {
    fc.assert(
      fc.property(fc.array(near, { maxLength: 40 }), (chars) => sameAsRegex(chars.join(''))),
      { numRuns: 5000 },
    );
  });

  it('agrees on any string, and on non-strings (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), sameAsRegex), {
      numRuns: 2000,
    });
    fc.assert(fc.property(fc.anything(), sameAsRegex), { numRuns: 500 });
  });

  it('agrees on valid encodings with one character changed, added or removed (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }),
        fc.nat(),
        near,
        fc.integer({ min: 0, max: 2 }),
        (b, at, ch, op) => {
          const text = toBase64(b);
          sameAsRegex(text);
          sameAsRegex(mutate(text, at, ch, op));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees on every 4-character string over the alphabet edges and padding', () => {
    const edge = ['A', 'B', 'P', 'Q', 'g', 'w', '/', '+', '=', '-', ' '];
    for (const a of edge)
      for (const b of edge) for (const c of edge) for (const d of edge) sameAsRegex(a + b + c + d);
  });
});

describe('parseU64', () => {
  it.each([
    ['0', 0n],
    [0, 0n],
    ['122', 122n],
    [122, 122n],
    [2 ** 53 - 1, 2n ** 53n - 1n],
    ['9007199254740993', 9007199254740993n],
    ['18446744073709551615', 2n ** 64n - 1n],
  ])('%s accepted', (v, n) => expect(parseU64('height', v)).toBe(n));

  it.each([
    ['2^53 as a JSON number', 2 ** 53],
    ['a huge JSON number', 1e20],
    ['2^64 as a string', '18446744073709551616'],
    ['21 digits', '100000000000000000000'],
    ['negative number', -1],
    ['negative string', '-1'],
    ['fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['leading zero', '012'],
    ['plus sign', '+1'],
    ['hex string', '0x10'],
    ['exponent', '1e3'],
    ['empty', ''],
    ['spaces', ' 1'],
    ['bigint-like', '1n'],
    ['boolean', true],
    ['null', null],
  ])('%s refused', (_n, v) => {
    expect(refusal(() => parseU64('height', v))).toMatch(/^height /);
  });
});

describe('parseU32', () => {
  it('accepts 0 .. 2^32-1', () => {
    expect(parseU32('round', 0)).toBe(0);
    expect(parseU32('round', '4294967295')).toBe(2 ** 32 - 1);
  });
  it.each([2 ** 32, '4294967296', -1])('%s refused', (v) => {
    expect(refusal(() => parseU32('round', v))).toMatch(/^round /);
  });
});

describe('moveBytes', () => {
  it('answers the bytes in an array of their own and wipes the source', () => {
    const source = Buffer.from([9, 8, 7]);
    const moved = moveBytes(source);
    expect([...moved]).toEqual([9, 8, 7]);
    expect([...source]).toEqual([0, 0, 0]);
    expect(moved.buffer).not.toBe(source.buffer);
  });
});

describe('encoders', () => {
  it('big-endian integers', () => {
    expect(u64be(0x0102030405060708n)).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(u64be(2n ** 64n - 1n)).toEqual(new Uint8Array(8).fill(255));
    expect(u32be(0x01020304)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(() => u64be(2n ** 64n)).toThrow(RangeError);
    expect(() => u64be(-1n)).toThrow(RangeError);
    expect(() => u32be(2 ** 32)).toThrow(RangeError);
  });

  it('decimal strings and text forms', () => {
    expect(u64ToString(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(toHex(Uint8Array.of(0, 0xab))).toBe('0x00ab');
    expect(toBase64(Uint8Array.of(0xfb, 0xff))).toBe('+/8=');
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(toHex(new Uint8Array([9, 1, 2]).subarray(1))).toBe('0x0102');
  });

  it('u64 round-trips through the decimal form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        expect(parseU64('f', u64ToString(n))).toBe(n);
      }),
    );
  });
});
