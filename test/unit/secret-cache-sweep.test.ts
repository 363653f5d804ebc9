/**
 * Every SecretCache is swept on one timer: entries past their TTL are wiped even when nothing
 * reads them again (the keyring's secrets, experience user keys, replicate seeds alike).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
afterAll(() => {
  vi.useRealTimers();
});

describe('the secret caches sweep', () => {
  it('wipes what is past its TTL in every cache, on its own', async () => {
    const { SecretCache, SWEEP_MS } = await import('../../src/keyring/secret-cache.js');
    let now = 0;
    const short = new SecretCache(10, 1_000, () => now);
    const long = new SecretCache(10, 60 * 60_000, () => now);
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3, 4]);
    short.set('a', a);
    long.set('b', b);
    now += 2_000;
    vi.advanceTimersByTime(SWEEP_MS - 1);
    expect([...a]).toEqual([1, 2]);
    vi.advanceTimersByTime(1);
    expect([short.size, [...a]]).toEqual([0, [0, 0]]);
    expect([long.size, [...b]]).toEqual([1, [3, 4]]);
  });
});
