/**
 * Issue 11, fault: PostgreSQL stopped and restarted under validator signing load. A KMS process
 * runs on a private cluster (support/pg-cluster.ts, never the shared server); STREAMS validators
 * each sign heights 1, 2, 3... in order, retrying a height (same block hash) until it is answered
 * 200, as a validator client does. The cluster is stopped twice, once `-m fast` (clean shutdown:
 * connections terminated) and once `-m immediate` (a crash: no checkpoint, WAL recovery at start),
 * for DOWN_MS each, then started again.
 *
 * Promised: while it is down every request answers 503 STORE_UNAVAILABLE (never a 500, never a hang),
 * a token first seen during the outage too, and /readyz is 503 naming the store; afterwards signing
 * resumes; and no watermark is lost or duplicated: every height was answered with one signature,
 * counters run 1..n without a gap, the stored signed blocks are exactly the heights answered 200,
 * and each watermark is the last height answered 200.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenOf, spawnKms, type KmsProcess } from '../support/process.js';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.js';

const STREAMS = 3;
const DOWN_MS = 3000;
const CHAIN = '122';

interface Answer {
  readonly height: number;
  readonly status: number;
  readonly code?: string;
  readonly signature?: string;
  readonly counter?: string;
  readonly phase: Phase;
}
type Phase = 'up' | 'stopping' | 'down' | 'starting';

let cluster: PgCluster;
let kms: KmsProcess;
let admin: string;
let validatorToken: string;
let phase: Phase = 'up';
const publicKeys: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const blockHash = (stream: number, height: number) =>
  '0x' + createHash('sha256').update(`block ${stream} ${height}`).digest('hex');

async function call(
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${kms.url}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    // A request that hangs is a failure of the promise, not a slow success.
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  cluster = await startPgCluster();
  const databaseUrl = cluster.createDatabase('kms');
  kms = await spawnKms({ databaseUrl, tokenLabel: 'faults-pg' });
  admin = adminTokenOf(kms.dataDir);
  for (let i = 0; i < STREAMS; i++) {
    const r = await call('POST', '/v1/keys', admin, {
      name: `val-${i}`,
      algorithm: 'bls12-381',
      purpose: 'validator',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    publicKeys.push(r.body.publicKey);
  }
  validatorToken = await newValidatorToken('validators');
}, 180_000);

afterAll(async () => {
  await kms?.kill('SIGKILL');
  cluster?.destroy();
  if (kms) rmSync(kms.dataDir, { recursive: true, force: true });
});

async function newValidatorToken(name: string): Promise<string> {
  const p = await call('POST', '/v1/principals', admin, {
    name,
    role: 'validator',
    scopes: ['val-*'],
  });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const t = await call('POST', `/v1/principals/${name}/tokens`, admin, {});
  expect(t.status).toBe(201);
  return t.body.token;
}

/** One validator: signs the next height until stopped, retrying a height until it is answered 200. */
function stream(i: number, answers: Answer[], running: () => boolean): Promise<void> {
  return (async () => {
    let height = 1;
    while (running()) {
      const at = phase;
      let r: { status: number; body: any };
      try {
        r = await call('POST', `/v1/validators/val-${i}/block-signatures`, validatorToken, {
          chainId: CHAIN,
          height: String(height),
          round: '0',
          blockHash: blockHash(i, height),
        });
      } catch (e) {
        answers.push({ height, status: -1, code: (e as Error).name, phase: at });
        return;
      }
      const b = r.body;
      answers.push({
        height,
        status: r.status,
        ...(b?.error ? { code: b.error.code } : {}),
        ...(r.status === 200 ? { signature: b.signature, counter: b.counter } : {}),
        phase: phase === at ? at : 'stopping',
      });
      if (r.status === 200) height++;
      else if (r.status === 503) await sleep(50);
      else return;
    }
  })();
}

async function outage(mode: 'fast' | 'immediate', probes: () => Promise<void>): Promise<void> {
  phase = 'stopping';
  cluster.stop(mode);
  phase = 'down';
  await probes();
  await sleep(DOWN_MS);
  phase = 'starting';
  cluster.start();
  phase = 'up';
}

/** Waits until every stream signed `more` heights after this call. */
async function resumed(answers: Answer[][], more: number): Promise<void> {
  const base = answers.map((a) => a.filter((x) => x.status === 200).length);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (answers.every((a, i) => a.filter((x) => x.status === 200).length >= base[i]! + more))
      return;
    if (answers.some((a) => a.some((x) => x.status !== 200 && x.status !== 503))) return;
    await sleep(100);
  }
  // The server's last log lines say why (store errors, pool state).
  throw new Error(
    `signing did not resume within 60 s of the restart; last answers ${JSON.stringify(
      answers.map((a) => a.slice(-2)),
    )}; server log tail:\n${kms.output().slice(-4000)}`,
  );
}

describe('PostgreSQL restarted under signing load', () => {
  it('answers 503 while it is down, resumes after, and loses or repeats no watermark', async () => {
    const answers: Answer[][] = Array.from({ length: STREAMS }, () => []);
    let run = true;
    const streams = answers.map((a, i) => stream(i, a, () => run));
    const probes: { status: number; code?: string; what: string }[] = [];
    const probe = async () => {
      const ready = await call('GET', '/readyz', null);
      const store = ready.body.checks.find((c: { name: string }) => c.name === 'store');
      probes.push({ what: `readyz store=${store?.status}`, status: ready.status });
      const fresh = await newTokenWhileDown();
      probes.push({ what: 'token first seen during the outage', ...fresh });
      const wm = await call(
        'GET',
        `/v1/validators/val-0/watermark?chainId=${CHAIN}`,
        validatorToken,
      );
      probes.push({ what: 'watermark', status: wm.status, code: wm.body?.error?.code });
    };
    let unseenToken = '';
    const newTokenWhileDown = async () => {
      const r = await call('GET', '/v1/keys', unseenToken);
      return { status: r.status, code: r.body?.error?.code };
    };
    try {
      await resumed(answers, 20);
      unseenToken = await newValidatorToken('unseen-fast');
      await outage('fast', probe);
      await resumed(answers, 20);
      unseenToken = await newValidatorToken('unseen-immediate');
      await outage('immediate', probe);
      await resumed(answers, 20);
    } finally {
      run = false;
      await Promise.all(streams);
    }

    const all = answers.flat();
    const unexpected = all.filter((a) => a.status !== 200 && a.status !== 503);
    expect(unexpected, 'only 200 and 503, never a 500 or a hang').toEqual([]);
    const down = all.filter((a) => a.phase === 'down');
    expect(down.length, 'requests were made while PostgreSQL was down').toBeGreaterThan(10);
    expect(down.filter((a) => a.status !== 503)).toEqual([]);
    const codes = new Set(all.filter((a) => a.status === 503).map((a) => a.code));
    expect([...codes]).toEqual(['STORE_UNAVAILABLE']);
    expect(probes).toEqual([
      { what: 'readyz store=fail', status: 503 },
      { what: 'token first seen during the outage', status: 503, code: 'STORE_UNAVAILABLE' },
      { what: 'watermark', status: 503, code: 'STORE_UNAVAILABLE' },
      { what: 'readyz store=fail', status: 503 },
      { what: 'token first seen during the outage', status: 503, code: 'STORE_UNAVAILABLE' },
      { what: 'watermark', status: 503, code: 'STORE_UNAVAILABLE' },
    ]);
    for (let i = 0; i < STREAMS; i++) await checkStream(i, answers[i]!);
    const verify = await call('GET', '/v1/audit/verify', admin);
    expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
    expect((await call('GET', '/readyz', null)).status).toBe(200);
  }, 240_000);
});

/** One signature per height, counters without gaps, the store and the watermark agree. */
async function checkStream(i: number, answers: Answer[]): Promise<void> {
  const signed = new Map<number, { signature: string; counter: string }>();
  for (const a of answers.filter((x) => x.status === 200)) {
    const seen = signed.get(a.height);
    if (seen) expect(a.signature, `height ${a.height} signed twice`).toBe(seen.signature);
    else signed.set(a.height, { signature: a.signature!, counter: a.counter! });
  }
  const heights = [...signed.keys()];
  expect(heights).toEqual(heights.map((_, k) => k + 1));
  expect(heights.map((h) => signed.get(h)!.counter)).toEqual(heights.map((h) => String(h)));
  const stored = await storedBlocks(publicKeys[i]!);
  expect(stored.map((r) => r.height)).toEqual(heights);
  for (const r of stored) expect(r.signature).toBe(signed.get(r.height)!.signature);
  const wm = await call(
    'GET',
    `/v1/validators/val-${i}/watermark?chainId=${CHAIN}`,
    validatorToken,
  );
  expect(wm.status).toBe(200);
  expect(wm.body).toMatchObject({
    height: String(heights.length),
    round: '0',
    blockHash: blockHash(i, heights.length),
    counter: String(heights.length),
  });
}

async function storedBlocks(publicKey: string): Promise<{ height: number; signature: string }[]> {
  const c = new pg.Client({ connectionString: cluster.url('kms') });
  await c.connect();
  try {
    const r = await c.query(
      'select height, signature from signed_blocks where public_key = $1 order by height',
      [Buffer.from(publicKey.slice(2), 'hex')],
    );
    return r.rows.map((row: { height: string; signature: Buffer }) => ({
      height: Number(row.height),
      signature: '0x' + row.signature.toString('hex'),
    }));
  } finally {
    await c.end();
  }
}
