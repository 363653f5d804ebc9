/**
 * `replicate-identity` (issue 10, scenario 4): 32 sidecars at once fetch their service's identity
 * (the default kind, mlkem768x25519), each wrapped to an ephemeral hybrid recipient of its own, as
 * an init container does at start; closed loop, p50/p99 latency. Then the same wrapped to X25519
 * recipients (`replicate-identity-x25519-wrap`, not a target): the difference is how
 * age-encryption runs the two recipient types (the hybrid KEM on the workers' native X25519 and
 * SHA-3, the X25519 recipient through WebCrypto; docs/performance.md).
 */
import {
  generateHybridIdentity,
  generateX25519Identity,
  identityToRecipient,
} from 'age-encryption';
import type { Site } from '../site.js';
import { runLoad, type Target } from '../load.js';
import { principalToken } from '../provision.js';
import { measure, type Timing } from '../measure.js';
import type { ScenarioResult } from '../results.js';

export const REPLICATE_CLIENTS = 32;
const SERVICES = 32;

export async function replicateIdentity(site: Site, t: Timing): Promise<ScenarioResult[]> {
  const token = await principalToken(site, 'bench-replicate', 'replicate', ['zoo/bench/*']);
  const recipients = (make: () => Promise<string>) =>
    Promise.all(
      Array.from({ length: REPLICATE_CLIENTS }, async () => identityToRecipient(await make())),
    );
  return [
    await identityRun(
      site,
      t,
      token,
      'replicate-identity',
      await recipients(generateHybridIdentity),
    ),
    await identityRun(
      site,
      t,
      token,
      'replicate-identity-x25519-wrap',
      await recipients(generateX25519Identity),
    ),
  ];
}

async function identityRun(
  site: Site,
  t: Timing,
  token: string,
  name: string,
  recipients: string[],
): Promise<ScenarioResult> {
  let n = 0;
  const target: Target = {
    token,
    next: () => {
      n += 1;
      return {
        path: `/v1/replicate/zoo/bench/svc-${n % SERVICES}/identity`,
        body: JSON.stringify({ wrapTo: recipients[n % recipients.length] }),
      };
    },
  };
  await runLoad(site.base, target, { connections: REPLICATE_CLIENTS, seconds: t.warmSeconds });
  const r = await measure(site, target, { connections: REPLICATE_CLIENTS, seconds: t.seconds });
  return {
    name,
    store: site.store,
    rate: r.rate,
    baselineRate: null,
    ratio: null,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    seconds: null,
    cpuUsPerRequest: r.cpuUsPerRequest,
    mainCpuUsPerRequest: r.mainCpuUsPerRequest,
    machineCpuUsPerRequest: r.machineCpuUsPerRequest,
    ...(r.failed ? { failed: r.failed, firstFailure: r.firstFailure } : {}),
  };
}
