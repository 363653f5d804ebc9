/**
 * Signing throughput, recorded in docs/bls.md. Off by default (timing is not a correctness test):
 * `BLS_BENCH=1 npx vitest run test/crypto/bls-throughput.test.ts`.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createBlsEngine } from '../src/crypto/bls/engine.js';
import { loadBlsAddon } from '../src/crypto/bls/native.js';
import { resolveDst } from '../src/crypto/bls/tags.js';

const N = 4000;
const IN_FLIGHT = 256;
const dst = resolveDst('SIG_NUL');
const sk = new Uint8Array(32).fill(3);
const msgs = Array.from({ length: N }, (_, i) => Uint8Array.of(i >> 8, i & 0xff, 1, 2, 3, 4, 5, 6));

async function rate(run: () => Promise<void>): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    await run();
    rates.push(N / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return rates.sort((a, b) => a - b)[1]!; // median of three
}

async function viaEngine(threads: number): Promise<number> {
  const engine = createBlsEngine({ threads });
  try {
    return await rate(async () => {
      for (let i = 0; i < N; i += IN_FLIGHT) {
        await Promise.all(msgs.slice(i, i + IN_FLIGHT).map((m) => engine.sign(sk, m, dst)));
      }
    });
  } finally {
    await engine.close();
  }
}

describe.skipIf(!process.env['BLS_BENCH'])('BLS sign throughput', () => {
  it('measures the main thread, one worker and all workers', async () => {
    const addon = loadBlsAddon();
    const inline = await rate(async () => {
      for (const m of msgs) addon.sign(sk, m, dst);
    });
    const one = await viaEngine(1);
    const all = await viaEngine(availableParallelism());
    const line = (name: string, r: number) => `${name}: ${Math.round(r)} signs/s`;
    process.stdout.write(
      [
        `cpus=${availableParallelism()} node=${process.version}`,
        line('addon, main thread', inline),
        line('engine, 1 worker', one),
        line(`engine, ${availableParallelism()} workers`, all),
        '',
      ].join('\n'),
    );
    expect(all).toBeGreaterThan(0);
  }, 300_000);
});
