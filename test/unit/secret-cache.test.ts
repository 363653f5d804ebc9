/**
 * The cache of unwrapped key material: entries past their TTL are wiped by a sweep even when
 * nothing reads them again, and a secret unwrapped across a clear (a key destroyed meanwhile) is
 * refused, so the caller wipes it instead of the cache keeping it.
 */
import { describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/keyring/secret-cache.js';

describe('SecretCache', () => {
  it('sweeps and wipes what is past its TTL, and only that', () => {
    let now = 1_000;
    const cache = new SecretCache(10, 100, () => now);
    const old = new Uint8Array([1, 2, 3]);
    cache.set('a:1', old);
    now += 60;
    const young = new Uint8Array([4, 5, 6]);
    cache.set('b:1', young);
    now += 50;
    cache.sweep();
    expect(cache.size).toBe(1);
    expect([...old]).toEqual([0, 0, 0]);
    expect(cache.get('b:1')).toBe(young);
    expect([...young]).toEqual([4, 5, 6]);
  });

  it('refuses a secret read before a clear or a dropped prefix, and keeps the caller its owner', () => {
    const cache = new SecretCache();
    const before = cache.generation;
    cache.deletePrefix('k:');
    const late = new Uint8Array([7, 7]);
    expect(cache.set('k:1', late, before)).toBe(false);
    expect(cache.get('k:1')).toBeUndefined();
    expect([...late]).toEqual([7, 7]);
    const now = cache.generation;
    cache.clear();
    expect(cache.set('k:1', late, now)).toBe(false);
    expect(cache.set('k:1', late, cache.generation)).toBe(true);
    expect(cache.get('k:1')).toBe(late);
  });
});
