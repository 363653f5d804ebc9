/** CRC32C against RFC 3720 appendix B.4 and the common check value ("123456789"). */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/providers/gcp/crc32c.js';

const bytes = (f: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => f(i));

describe('crc32c', () => {
  it.each([
    ['32 bytes of zeros', bytes(() => 0), 0x8a9136aa],
    ['32 bytes of 0xff', bytes(() => 0xff), 0x62a8ab43],
    ['32 incrementing bytes', bytes((i) => i), 0x46dd794e],
    ['32 decrementing bytes', bytes((i) => 31 - i), 0x113fdb5c],
    ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
    ['the empty string', new Uint8Array(0), 0],
  ])('%s', (_name, data, expected) => {
    expect(crc32c(data)).toBe(expected);
  });
});
