/**
 * ProviderSet (failover, ARCHITECTURE.md "Providers and failover") over real software providers:
 * a closed provider is a real outage for it (every call is ProviderUnavailableError) and open()
 * ends it. The clock is injected so the backoff schedule is exact.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsError } from '../../src/errors.js';
import { IntegrityError, type KeyProvider } from '../../src/providers/provider.js';
import { ProviderSet } from '../../src/providers/set.js';
import { SoftwareProvider } from '../../src/providers/software.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let clock = 0;
let providers: SoftwareProvider[];
let set: ProviderSet;
let events: string[];

beforeEach(async () => {
  clock = 1_000_000;
  providers = ['a', 'b', 'c'].map(
    (n) =>
      new SoftwareProvider({
        name: n,
        keyFile: path.join(dir, `${n}-${randomBytes(4).toString('hex')}.key`),
      }),
  );
  await Promise.all(providers.map((p) => p.open()));
  set = new ProviderSet(providers, { healthCheckIntervalMs: 10_000, now: () => clock });
  events = [];
  set.subscribe((name, healthy) => events.push(`${name}:${healthy ? 'up' : 'down'}`));
});

const names = (ps: KeyProvider[]) => ps.map((p) => p.name);
const unwrapOn = (p: KeyProvider) => p.unwrap('hmac-sha256', new Uint8Array(40));

describe('run', () => {
  it('uses the first healthy provider, in priority order', async () => {
    expect(await set.run(async (p) => p.name)).toBe('a');
    expect(
      await set.run(
        async (p) => p.name,
        (p) => p.name !== 'a',
      ),
    ).toBe('b');
  });

  it('without failover runs on the primary only, and answers 503 while it is down', async () => {
    const single = new ProviderSet(providers, {
      healthCheckIntervalMs: 10_000,
      now: () => clock,
      failover: false,
    });
    expect(await single.run(async (p) => p.name)).toBe('a');
    expect(names(single.serving())).toEqual(['a']);
    await providers[0]!.close();
    await expect(single.run(unwrapOn)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(names(single.healthy())).toEqual(['b', 'c']);
    expect(single.serving()).toEqual([]);
    await expect(single.run(async (p) => p.name)).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
    // Maintenance (the wrap repair) still reaches the other healthy providers.
    expect(await single.run(async (p) => p.name, undefined, 'healthy')).toBe('b');
  });

  it('takes an unavailable provider out and retries once on the next', async () => {
    await providers[0]!.close();
    expect(await set.run(async (p) => (await p.wrap('bls12-381', randomBytes(32)), p.name))).toBe(
      'b',
    );
    expect(names(set.healthy())).toEqual(['b', 'c']);
    expect(events).toEqual(['a:down']);
    expect(set.status()[0]!.operations).toEqual({ ok: 0, unavailable: 1 });
    expect(set.status()[1]!.operations).toEqual({ ok: 1, unavailable: 0 });
  });

  it('tries at most two providers per operation', async () => {
    await Promise.all(providers.map((p) => p.close()));
    const err = await set.run((p) => p.wrap('bls12-381', randomBytes(32))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsError);
    expect((err as KmsError).code).toBe('PROVIDER_UNAVAILABLE');
    expect(names(set.healthy())).toEqual(['c']);
  });

  it('does not fail over, nor take the provider out, for a refusal or a failed authentication', async () => {
    await expect(set.run(unwrapOn)).rejects.toBeInstanceOf(IntegrityError);
    expect(names(set.healthy())).toEqual(['a', 'b', 'c']);
    expect(events).toEqual([]);
  });
});

describe('health checks and backoff', () => {
  it('retries a failed provider after 1 s, 2 s, 4 s ... capped at the health interval', async () => {
    await providers[0]!.close();
    await set.checkAll(true);
    expect(events).toEqual(['a:down']);
    const probes: number[] = [];
    let last = set.status()[0]!.lastCheckAt;
    for (let t = 0; t <= 40_000; t += 250) {
      clock = 1_000_000 + t;
      await set.checkAll();
      const now = set.status()[0]!.lastCheckAt;
      if (now !== last) probes.push(t);
      last = now;
    }
    // Probes at 1, 3, 7, 15 s (gaps 1, 2, 4, 8 s), then every 10 s (the interval caps the backoff).
    expect(probes.slice(0, 6)).toEqual([1000, 3000, 7000, 15_000, 25_000, 35_000]);
    await providers[0]!.open();
    clock += 10_000;
    await set.checkAll();
    expect(set.isHealthy('a')).toBe(true);
    expect(events).toEqual(['a:down', 'a:up']);
  });

  it('checks healthy providers once per interval', async () => {
    await set.checkAll();
    const first = set.status().map((s) => s.lastCheckAt);
    clock += 9_999;
    await set.checkAll();
    expect(set.status().map((s) => s.lastCheckAt)).toEqual(first);
    clock += 1;
    await set.checkAll();
    expect(set.status().map((s) => s.lastCheckAt)).not.toEqual(first);
  });

  it('an unsubscribed listener hears nothing more', async () => {
    const heard: string[] = [];
    const off = set.subscribe((n) => heard.push(n));
    set.markDown('b', 'test');
    off();
    set.markDown('c', 'test');
    expect(heard).toEqual(['b']);
  });
});
