/** src/crypto/random-pool.ts: fresh bytes each time, across refills, as copies or hex. */
import { describe, expect, it } from 'vitest';
import { RandomPool } from '../../src/crypto/random-pool.js';

describe('RandomPool', () => {
  it('hands out different bytes each time, across refills, each its own copy', () => {
    const pool = new RandomPool(40);
    const taken = Array.from({ length: 50 }, () => pool.bytes(12));
    expect(taken.every((b) => b.length === 12 && b.byteOffset === 0)).toBe(true);
    expect(new Set(taken.map((b) => Buffer.from(b).toString('hex'))).size).toBe(50);
    const second = Buffer.from(taken[1]!).toString('hex');
    taken[0]!.fill(0);
    expect(Buffer.from(taken[1]!).toString('hex')).toBe(second);
  });

  it('gives hex of the asked length, and refuses more than the pool holds', () => {
    const pool = new RandomPool(16);
    const hex = Array.from({ length: 20 }, () => pool.hex(8));
    expect(hex.every((h) => /^[0-9a-f]{16}$/.test(h))).toBe(true);
    expect(new Set(hex).size).toBe(20);
    expect(() => pool.bytes(17)).toThrow(RangeError);
  });
});
