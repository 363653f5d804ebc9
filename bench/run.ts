/**
 * `npm run bench [-- --quick] [--store sqlite|postgres] [--only a,b] [--profile] [--keep]`: the
 * scenarios of issue 10 on SQLite and PostgreSQL, a printed table, the target checks, and
 * bench-results.json. `--profile` runs the bench server under `node --cpu-prof` (profiles in
 * bench-profiles/); `--keep` leaves the data dirs (server logs) and databases in place.
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BENCH_SERVER, openSite, type StoreKind } from './site.js';
import { FULL, QUICK, type Timing } from './measure.js';
import { halfRateLines, table, writeResults, type ScenarioResult } from './results.js';
import { checkTargets } from './targets.js';
import { blsNative } from './scenarios/bls-native.js';
import { bridgeSign, validatorSign } from './scenarios/signing.js';
import { experience } from './scenarios/experience.js';
import { replicateIdentity } from './scenarios/replicate.js';
import { fillKeys, startup } from './scenarios/startup.js';
import { compileSources } from './compile.js';

const ALL = [
  'bls-native',
  'validator-sign',
  'bridge-sign',
  'experience',
  'replicate-identity',
  'startup-10k-keys',
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    store: { type: 'string', default: 'sqlite,postgres' },
    only: { type: 'string', default: ALL.join(',') },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results.json' },
    keep: { type: 'boolean', default: false },
  },
});
const timing: Timing = values.quick ? QUICK : FULL;
const stores = values.store.split(',') as StoreKind[];
const only = new Set(values.only.split(','));
const results: ScenarioResult[] = [];

function log(msg: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function onStore(store: StoreKind, main: string): Promise<void> {
  const site = await openSite(store);
  try {
    const profDir = values.profile ? path.resolve('bench-profiles', store) : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    await site.start(BENCH_SERVER, profDir ? { cpuProfDir: profDir } : {});
    const steps: [string, () => Promise<ScenarioResult | ScenarioResult[]>][] = [
      ['validator-sign', () => validatorSign(site, timing)],
      ['bridge-sign', () => bridgeSign(site, timing)],
      ['experience', () => experience(site, timing)],
      ['replicate-identity', () => replicateIdentity(site, timing)],
    ];
    for (const [name, step] of steps) {
      if (!only.has(name)) continue;
      log(`${store} ${name}`);
      results.push(...[await step()].flat());
    }
    if (only.has('startup-10k-keys')) {
      await site.stop();
      log(`${store} startup-10k-keys: filling the store`);
      const keys = await fillKeys(site);
      log(`${store} startup-10k-keys: starting the compiled main.js`);
      results.push(await startup(site, main, keys));
    }
  } finally {
    if (values.keep) {
      await site.stop();
      log(`${store}: kept ${site.dataDir} ${site.databaseUrl}`);
    } else await site.dispose();
  }
}

const mode = values.quick ? 'quick' : 'full';
const started = Date.now();
if (only.has('bls-native')) {
  log('bls-native');
  results.push(...(await (values.quick ? blsNative(1000, 1) : blsNative(8000, 3))));
}
const main = only.has('startup-10k-keys') ? compileSources() : '';
for (const store of stores) await onStore(store, main);
writeResults(values.out, results, mode);
process.stdout.write('\n' + table(results) + '\n\n');
for (const line of halfRateLines(results)) process.stdout.write(line + '\n');
for (const c of checkTargets(results))
  process.stdout.write(`${c.met ? 'met  ' : 'UNMET'}  ${c.target}: ${c.value}\n`);
log(`${mode} run: ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${values.out}`);
