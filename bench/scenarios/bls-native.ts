/**
 * The raw native BLS signing rate (no HTTP): the addon on the main thread, and the engine with one
 * worker and with one worker per core, 256 signs in flight, the median of `rounds` rounds. This is
 * the ceiling of validator-sign and bridge-sign (docs/bls.md).
 */
import { availableParallelism } from 'node:os';
import { createBlsEngine } from '../../src/crypto/bls/engine.js';
import { loadBlsAddon } from '../../src/crypto/bls/native.js';
import { resolveDst } from '../../src/crypto/bls/tags.js';
import { generateSecret } from '../../src/keyring/material.js';
import { emptyResult, type ScenarioResult } from '../results.js';

const IN_FLIGHT = 256;

async function rate(
  n: number,
  rounds: number,
  run: (msgs: Uint8Array[]) => Promise<void>,
): Promise<number> {
  const msgs = Array.from({ length: n }, (_, i) =>
    Uint8Array.of(i >> 8, i & 0xff, 1, 2, 3, 4, 5, 6),
  );
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = process.hrtime.bigint();
    await run(msgs);
    rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return rates.sort((a, b) => a - b)[Math.floor((rounds - 1) / 2)]!;
}

async function viaEngine(threads: number, n: number, rounds: number, sk: Uint8Array) {
  const engine = createBlsEngine({ threads });
  const dst = resolveDst('SIG_NUL');
  try {
    return await rate(n, rounds, async (msgs) => {
      for (let i = 0; i < msgs.length; i += IN_FLIGHT)
        await Promise.all(msgs.slice(i, i + IN_FLIGHT).map((m) => engine.sign(sk, m, dst)));
    });
  } finally {
    await engine.close();
  }
}

export async function blsNative(n: number, rounds: number): Promise<ScenarioResult[]> {
  const sk = generateSecret('bls12-381');
  const dst = resolveDst('SIG_NUL');
  const addon = loadBlsAddon();
  try {
    const inline = await rate(n, rounds, async (msgs) => {
      for (const m of msgs) addon.sign(sk, m, dst);
    });
    const one = await viaEngine(1, n, rounds, sk);
    const all = await viaEngine(availableParallelism(), n, rounds, sk);
    return [
      { ...emptyResult('bls-native-main-thread', 'none'), rate: inline },
      { ...emptyResult('bls-native-1-worker', 'none'), rate: one },
      { ...emptyResult(`bls-native-${availableParallelism()}-workers`, 'none'), rate: all },
    ];
  } finally {
    sk.fill(0);
  }
}
