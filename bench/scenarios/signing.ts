/**
 * `validator-sign` and `bridge-sign` (issue 10, scenarios 1 and 2): many keys, 64 connections,
 * the durable store, each next to a bare route that only signs with the same native path.
 *
 * Validator: a key is used by one request at a time (a free list), and each use raises its
 * height, so no request is refused as a regression. Keys of requests abandoned when a run stops
 * rest for a while, as the server may still sign them. Bridge: every request has a fresh nonce.
 * The baselines get bodies of the same shape and size.
 */
import { randomBytes } from 'node:crypto';
import type { Site } from '../site.js';
import type { Target } from '../load.js';
import { measurePair, type Pair, type Timing } from '../measure.js';
import { createKeys, principalToken } from '../provision.js';
import { BARE } from '../bare-routes.js';
import type { ScenarioResult } from '../results.js';

const KEYS = 256;
const CHAIN = '122';
const REST_MS = 10_000;

/** Block-signature requests over `keys`, each key strictly increasing and never used twice at once. */
export function blockTarget(
  keys: readonly string[],
  path: (key: string) => string,
  token?: string,
): Target {
  const free = [...keys];
  const busy = new Set<string>();
  const heights = new Map<string, number>();
  return {
    ...(token ? { token } : {}),
    next: () => {
      const key = free.shift();
      if (key === undefined) throw new Error('validator-sign: more connections than free keys');
      busy.add(key);
      const height = (heights.get(key) ?? 0) + 1;
      heights.set(key, height);
      const body = JSON.stringify({
        chainId: CHAIN,
        height: String(height),
        round: '0',
        blockHash: '0x' + randomBytes(32).toString('hex'),
      });
      return { path: path(key), body, tag: key };
    },
    answered: (key) => {
      busy.delete(key as string);
      free.push(key as string);
    },
    abandoned: () => {
      const resting = [...busy];
      busy.clear();
      setTimeout(() => free.push(...resting), REST_MS).unref();
    },
  };
}

export async function validatorSign(site: Site, t: Timing): Promise<ScenarioResult> {
  const names = Array.from({ length: KEYS }, (_, i) => `bench-val-${i}`);
  await createKeys(site, names, { algorithm: 'bls12-381', purpose: 'validator', chains: [CHAIN] });
  const token = await principalToken(site, 'bench-validator', 'validator', ['bench-val-*']);
  const scenario = blockTarget(names, (k) => `/v1/validators/${k}/block-signatures`, token);
  const baseline = blockTarget(names, () => BARE.blockSign);
  return pairResult('validator-sign', site, await measurePair(site, scenario, baseline, t));
}

export function bridgeTarget(
  keys: readonly string[],
  path: (key: string) => string,
  token?: string,
): Target {
  let nonce = 0;
  const payload = '0x' + randomBytes(64).toString('hex');
  return {
    ...(token ? { token } : {}),
    next: () => {
      nonce += 1;
      const body = JSON.stringify({
        sourceChainId: CHAIN,
        targetChainId: '120',
        nonce: String(nonce),
        timestamp: String(Math.floor(Date.now() / 1000)),
        payload,
      });
      return { path: path(keys[nonce % keys.length]!), body };
    },
  };
}

export async function bridgeSign(site: Site, t: Timing): Promise<ScenarioResult> {
  const names = Array.from({ length: KEYS }, (_, i) => `bench-bridge-${i}`);
  await createKeys(site, names, { algorithm: 'bls12-381', purpose: 'bridge' });
  const token = await principalToken(site, 'bench-bridge', 'bridge', ['bench-bridge-*']);
  const scenario = bridgeTarget(names, (k) => `/v1/bridge/${k}/signatures`, token);
  const baseline = bridgeTarget(names, () => BARE.bridgeSign);
  return pairResult('bridge-sign', site, await measurePair(site, scenario, baseline, t));
}

export function pairResult(name: string, site: Site, p: Pair): ScenarioResult {
  const failed = p.scenario.failed + p.baseline.failed;
  const firstFailure = p.scenario.firstFailure ?? p.baseline.firstFailure;
  return {
    name,
    store: site.store,
    rate: p.scenario.rate,
    baselineRate: p.baseline.rate,
    ratio: p.ratio,
    p50Ms: p.scenario.p50Ms,
    p99Ms: p.scenario.p99Ms,
    seconds: null,
    baselineP50Ms: p.baseline.p50Ms,
    baselineP99Ms: p.baseline.p99Ms,
    cpuUsPerRequest: p.scenario.cpuUsPerRequest,
    baselineCpuUsPerRequest: p.baseline.cpuUsPerRequest,
    mainCpuUsPerRequest: p.scenario.mainCpuUsPerRequest,
    baselineMainCpuUsPerRequest: p.baseline.mainCpuUsPerRequest,
    mainWaitUsPerRequest: p.scenario.mainWaitUsPerRequest,
    baselineMainWaitUsPerRequest: p.baseline.mainWaitUsPerRequest,
    machineCpuUsPerRequest: p.scenario.machineCpuUsPerRequest,
    baselineMachineCpuUsPerRequest: p.baseline.machineCpuUsPerRequest,
    ...(failed ? { failed } : {}),
    ...(firstFailure ? { firstFailure } : {}),
  };
}
