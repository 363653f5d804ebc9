/**
 * /metrics (API.md "Health, docs, metrics", issue 9): the Prometheus text exposition format
 * (parsed here by a strict little parser), counters that move with traffic, and no secrets or
 * per-user labels: label values are route templates, methods, statuses, codes, provider names and
 * algorithms only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalToken, startKms, type TestKms } from '../support/kms.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', ''],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  untyped: [''],
};

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${s}`);
  return Number(s);
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < s.length) {
    const m = LABEL.exec(s);
    if (!m) throw new Error(`bad labels {${s}}`);
    if (m[1]! in out) throw new Error(`duplicate label ${m[1]}`);
    out[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return out;
}

/** Text format 0.0.4: HELP and TYPE before a family's samples; sample names match the family. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      const f = families.get(name) ?? { type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!(rest in SUFFIXES)) throw new Error(`bad type ${rest}`);
        if (f.samples.length) throw new Error(`TYPE after samples of ${name}`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      current = name;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const f = current === undefined ? undefined : families.get(current);
    const name = m[1]!;
    if (!f || !SUFFIXES[f.type]!.some((sfx) => name === current + sfx))
      throw new Error(`sample ${name} outside its family (${current})`);
    f.samples.push({ name, labels: parseLabels(m[2] ?? ''), value: parseValue(m[3]!) });
  }
  return families;
}

function value(f: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const family = f.get(name.replace(/_(total|bucket|sum|count)$/, '')) ?? f.get(name);
  const s = family?.samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value ?? 0;
}

let t: TestKms;
let userToken: string;
beforeAll(async () => {
  t = await startKms();
  userToken = await principalToken(t, 'did-lux-122-alice', 'signing', ['alice-secret-key']);
});
afterAll(async () => {
  await t?.close();
});

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await t.kms.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.body, families: parseExposition(res.body) };
}

describe('/metrics', () => {
  it('is Prometheus text, served without a token, with the families the API names', async () => {
    const { families } = await scrape();
    expect(
      families.get('kms_http_requests')?.type ?? families.get('kms_http_requests_total')?.type,
    ).toBe('counter');
    expect(families.get('kms_http_request_duration_seconds')?.type).toBe('histogram');
    expect(families.get('kms_refusals')?.type ?? families.get('kms_refusals_total')?.type).toBe(
      'counter',
    );
    expect(families.get('kms_provider_healthy')?.type).toBe('gauge');
    expect(families.get('kms_provider_canary_latency_ms')?.type).toBe('gauge');
    expect(families.get('kms_audit_events')?.type).toBe('gauge');
    expect(families.get('kms_keys')?.type).toBe('gauge');
    for (const [name, f] of families) expect(f.help, name).not.toBe('');
  });

  it('moves with traffic: requests, latency, refusals, keys, audit length', async () => {
    const before = (await scrape()).families;
    const signRoute = { method: 'POST', route: '/v1/keys/:name/sign', status: '200' };
    const created = await t.call('POST', '/v1/keys', {
      body: { name: 'alice-secret-key', algorithm: 'p-256', purpose: 'signing' },
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const s = await t.call('POST', '/v1/keys/alice-secret-key/sign', {
        token: userToken,
        body: { message: Buffer.from(`m${i}`).toString('base64') },
      });
      expect(s.status).toBe(200);
    }
    const refused = await t.call('POST', '/v1/keys/bob-key/sign', {
      token: userToken,
      body: { message: 'AA==' },
    });
    expect(refused.status).toBe(403);
    expect((await t.call('GET', '/v1/keys', { token: 'zkms_not-a-token' })).status).toBe(401);
    const after = (await scrape()).families;

    const d = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(d('kms_http_requests_total', signRoute)).toBe(3);
    expect(d('kms_http_requests_total', { ...signRoute, status: '403' })).toBe(1);
    expect(
      d('kms_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/keys/:name/sign',
      }),
    ).toBe(4);
    expect(
      d('kms_http_request_duration_seconds_bucket', {
        method: 'POST',
        route: '/v1/keys/:name/sign',
        le: '+Inf',
      }),
    ).toBe(4);
    expect(d('kms_refusals_total', { code: 'FORBIDDEN' })).toBe(1);
    expect(d('kms_refusals_total', { code: 'UNAUTHENTICATED' })).toBe(1);
    expect(d('kms_keys', { algorithm: 'p-256' })).toBe(1);
    // key.create, 3 x key.sign, the refused sign: one audit event each.
    expect(d('kms_audit_events', {})).toBeGreaterThanOrEqual(5);
    expect(value(after, 'kms_provider_healthy', { provider: 'softhsm2' })).toBe(1);
    expect(
      value(after, 'kms_provider_operations', { provider: 'softhsm2', outcome: 'ok' }),
    ).toBeGreaterThan(0);
  });

  it('keeps histogram buckets cumulative, ending at the count', async () => {
    const { families } = await scrape();
    const h = families.get('kms_http_request_duration_seconds')!;
    const series = new Map<string, Sample[]>();
    for (const s of h.samples.filter((x) => x.name.endsWith('_bucket'))) {
      const key = `${s.labels.method} ${s.labels.route}`;
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    expect(series.size).toBeGreaterThan(0);
    for (const [key, buckets] of series) {
      const values = buckets.map((b) => b.value);
      expect(values, key).toEqual([...values].sort((a, b) => a - b));
      expect(buckets.at(-1)!.labels.le, key).toBe('+Inf');
      const [method, route] = key.split(' ');
      expect(
        value(families, 'kms_http_request_duration_seconds_count', {
          method: method!,
          route: route!,
        }),
        key,
      ).toBe(buckets.at(-1)!.value);
    }
  });

  it('carries no secrets and no per-user labels', async () => {
    await t.call('GET', '/v1/keys/did-lux-122-alice-probe-9f1c', { token: userToken });
    await t.call('GET', '/no/such/route/with-user-7e21', { token: null });
    const { text, families } = await scrape();
    for (const secret of [userToken, t.adminToken, userToken.slice(5, 20)])
      expect(text).not.toContain(secret);
    // principal names, key names, user-chosen path segments and request ids never become labels.
    for (const personal of ['did-lux-122-alice', 'alice-secret-key', 'with-user-7e21', 'req_'])
      expect(text).not.toContain(personal);
    const allowed = new Set([
      'method',
      'route',
      'status',
      'code',
      'provider',
      'outcome',
      'algorithm',
      'le',
    ]);
    for (const [name, f] of families)
      for (const s of f.samples)
        for (const [label, v] of Object.entries(s.labels)) {
          expect(allowed.has(label), `${name} label ${label}`).toBe(true);
          if (label === 'route') expect(v, name).toMatch(/^(\/[A-Za-z0-9._:-]*)+$|^unmatched$/);
        }
  });
});
