/** The generic token bucket (src/services/rate-limit.ts) on a fake clock. */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/services/rate-limit.js';
import { isKmsError } from '../../src/errors.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RateLimiter', () => {
  it('rate 0 never limits', () => {
    const l = new RateLimiter({ rate: 0 });
    for (let i = 0; i < 1000; i++) expect(l.take('k')).toBe(0);
  });

  it('allows a burst of one second, then refills at the rate, per key', () => {
    const c = clock();
    const l = new RateLimiter({ rate: 5, now: c.now });
    for (let i = 0; i < 5; i++) expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBeCloseTo(0.2);
    expect(l.take('b')).toBe(0);
    c.advance(100);
    expect(l.take('a')).toBeCloseTo(0.1);
    c.advance(100);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBeGreaterThan(0);
  });

  it('a rate below 1/s still allows one and then waits for a whole token', () => {
    const c = clock();
    const l = new RateLimiter({ rate: 1 / 60, now: c.now });
    expect(l.take('k')).toBe(0);
    expect(l.take('k')).toBeCloseTo(60);
    c.advance(30_000);
    expect(l.take('k')).toBeCloseTo(30);
  });

  it('consume throws RATE_LIMITED with retryAfter', () => {
    const c = clock();
    const l = new RateLimiter({ rate: 1, now: c.now });
    l.consume('k');
    try {
      l.consume('k', 'key k');
      expect.unreachable();
    } catch (e) {
      expect(isKmsError(e) && e.code).toBe('RATE_LIMITED');
      expect(isKmsError(e) && e.retryAfter).toBeCloseTo(1);
    }
  });

  it('stays bounded: full buckets are dropped first, and a dropped bucket is a full one', () => {
    const c = clock();
    const l = new RateLimiter({ rate: 1, now: c.now, maxKeys: 3 });
    l.take('a');
    l.take('b');
    l.take('c');
    c.advance(2_000); // a, b, c refilled
    l.take('d');
    expect(l.take('a')).toBe(0);
    expect(l.take('d')).toBeGreaterThan(0);
  });
});
