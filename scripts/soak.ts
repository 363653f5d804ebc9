/**
 * `npm run soak`: a long mixed load against a real KMS process (issue 11), reporting the process's
 * RSS over time and every non-2xx answer, and checking that memory levels off: the RSS at the end
 * must be within 20% of the RSS after the first minute. Not part of CI (it runs for 10 minutes).
 *
 *   npm run soak -- [--seconds 600] [--concurrency 16] [--report docs/soak-report.md]
 *
 * The KMS runs from the build (dist/main.js, rebuilt first) on its embedded defaults in a temporary
 * data dir: SQLite and a SoftHSM2 token made there. SOAK_DATABASE_URL runs it on PostgreSQL instead.
 * Exit code 0 when memory levelled off and nothing answered 5xx, 1 otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { OPS, setUp, type Client } from './soak-ops.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SECONDS = Number(args.get('seconds') ?? 600);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);
const REPORT = args.get('report') ?? path.join(ROOT, 'docs/soak-report.md');
const SAMPLE_MS = 5000;

interface Sample {
  readonly at: number;
  readonly rssMiB: number;
  readonly requests: number;
  readonly failures: number;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function startKms(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('KMS_') && k !== 'DATABASE_URL' && k !== 'SOFTHSM2_CONF',
    ),
  );
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
    cwd: dataDir,
    env: {
      ...env,
      KMS_DATA_DIR: dataDir,
      KMS_PORT: '0',
      ...(process.env.SOAK_DATABASE_URL ? { DATABASE_URL: process.env.SOAK_DATABASE_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"(http[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
      if (out.length > 1_000_000) out = out.slice(-10_000);
    });
    child.once('exit', (code) => reject(new Error(`KMS exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

async function main(): Promise<void> {
  console.log('building dist/ ...');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-soak-'));
  const { child, url } = await startKms(dataDir);
  try {
    const admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    const recipient = await identityToRecipient(await generateX25519Identity());
    const client = await setUp(url, admin, CONCURRENCY, recipient);
    const result = await run(client, child.pid!);
    const report = render(result, url);
    writeFileSync(REPORT, report);
    console.log(report);
    process.exitCode = result.levelled && result.serverErrors === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Result {
  readonly samples: Sample[];
  readonly byOp: Map<string, { ok: number; failed: Map<string, number>; ms: number }>;
  readonly serverErrors: number;
  readonly levelled: boolean;
  readonly baseline: number;
  readonly end: number;
}

async function run(client: Client, pid: number): Promise<Result> {
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const byOp: Result['byOp'] = new Map(
    OPS.map((o) => [o.name, { ok: 0, failed: new Map(), ms: 0 }]),
  );
  let requests = 0;
  let failures = 0;
  const samples: Sample[] = [{ at: 0, rssMiB: rssMiB(pid), requests: 0, failures: 0 }];
  const timer = setInterval(() => {
    samples.push({ at: (Date.now() - started) / 1000, rssMiB: rssMiB(pid), requests, failures });
  }, SAMPLE_MS);
  const total = OPS.reduce((a, o) => a + o.weight, 0);
  const worker = async (w: number) => {
    while (Date.now() < deadline) {
      let n = Math.floor(Math.random() * total);
      const op = OPS.find((o) => (n -= o.weight) < 0)!;
      const t0 = performance.now();
      const outcome = await op
        .run(client, w)
        .catch((e: unknown) => `exception ${(e as Error).message.slice(0, 60)}`);
      const stats = byOp.get(op.name)!;
      stats.ms += performance.now() - t0;
      requests++;
      if (outcome === 'ok') stats.ok++;
      else {
        failures++;
        stats.failed.set(outcome, (stats.failed.get(outcome) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  clearInterval(timer);
  samples.push({ at: (Date.now() - started) / 1000, rssMiB: rssMiB(pid), requests, failures });
  const baseline = samples.find((s) => s.at >= 60)?.rssMiB ?? samples[samples.length - 1]!.rssMiB;
  const end = samples[samples.length - 1]!.rssMiB;
  const serverErrors = [...byOp.values()].reduce(
    (a, s) =>
      a + [...s.failed].filter(([k]) => /^5|exception/.test(k)).reduce((x, [, v]) => x + v, 0),
    0,
  );
  return { samples, byOp, serverErrors, levelled: end <= baseline * 1.2, baseline, end };
}

function render(r: Result, url: string): string {
  const last = r.samples[r.samples.length - 1]!;
  const rows = r.samples
    .filter(
      (s, i) => i === 0 || i === r.samples.length - 1 || Math.round(s.at) % 30 < SAMPLE_MS / 1000,
    )
    .map((s) => `| ${Math.round(s.at)} | ${s.rssMiB.toFixed(1)} | ${s.requests} | ${s.failures} |`);
  const ops = [...r.byOp].map(([name, s]) => {
    const n = s.ok + [...s.failed.values()].reduce((a, b) => a + b, 0);
    const failed = [...s.failed].map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
    return `| ${name} | ${n} | ${s.ok} | ${n ? (s.ms / n).toFixed(1) : '-'} | ${failed} |`;
  });
  return [
    '# Soak report',
    '',
    `Generated by \`npm run soak\` (scripts/soak.ts) on ${new Date().toISOString()}: ${SECONDS} s of mixed load,`,
    `${CONCURRENCY} concurrent clients, against \`node dist/main.js\` at ${url} (${process.env.SOAK_DATABASE_URL ? 'PostgreSQL' : 'SQLite'} and a SoftHSM2 token, embedded defaults),`,
    `${os.cpus().length} cores, load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
    '',
    `**Memory ${r.levelled ? 'levelled off' : 'did NOT level off'}**: RSS ${r.baseline.toFixed(1)} MiB after the first minute, ` +
      `${r.end.toFixed(1)} MiB at the end (${(((r.end - r.baseline) / r.baseline) * 100).toFixed(1)}%; the limit is +20%). ` +
      `${last.requests} operations, ${last.failures} not answered 2xx, ${r.serverErrors} of them 5xx or no answer.`,
    '',
    '## RSS of the KMS process over time',
    '',
    '| seconds | RSS (MiB) | operations so far | failures so far |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Operations',
    '',
    '| operation | count | 2xx | mean ms | other answers |',
    '|---|---|---|---|---|',
    ...ops,
    '',
  ].join('\n');
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
