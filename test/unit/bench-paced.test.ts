/**
 * The bench's paced load (bench/paced.ts) speaks HTTP/1.1 by hand: it must send what it is given,
 * count only 2xx answers as latencies, count the rest and lost connections as failures, and issue
 * requests at the rate asked for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runPaced } from '../../bench/paced.js';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

let server: http.Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString(), res));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length });
  res.end(text);
};

describe('runPaced', () => {
  it('sends each request as given, at the rate asked for, and times the 2xx answers', async () => {
    const seen: { path: string; auth?: string; body: unknown }[] = [];
    const base = await serve((req, body, res) => {
      seen.push({ path: req.url!, auth: req.headers.authorization, body: JSON.parse(body) });
      json(res, 200, { echo: JSON.parse(body), pad: 'x'.repeat(5000) });
    });
    let n = 0;
    const answered: unknown[] = [];
    const r = await runPaced(
      base,
      {
        token: 'tok',
        next: () => ({ path: `/p/${n}`, body: JSON.stringify({ n: n }), tag: n++ }),
        answered: (tag) => answered.push(tag),
      },
      { rate: 200, seconds: 1, connections: 4 },
    );
    expect(r.failed).toBe(0);
    // 200/s for 1 s, on a 1 ms tick: every request due by the end, none early.
    expect(r.requests).toBeGreaterThanOrEqual(195);
    expect(r.requests).toBeLessThanOrEqual(200);
    expect(seen.length).toBe(r.requests);
    // Each request exactly once and as given; requests on different connections may reach the
    // server in either order when the machine is busy, so they are compared by their number.
    const byNumber = [...seen].sort(
      (a, b) => (a.body as { n: number }).n - (b.body as { n: number }).n,
    );
    byNumber.forEach((s, i) =>
      expect(s).toEqual({ path: `/p/${i}`, auth: 'Bearer tok', body: { n: i } }),
    );
    expect(answered.length).toBe(r.requests);
    expect(r.p50Ms).toBeGreaterThan(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  });

  it('counts answers other than 2xx, and lost connections, as failures, never as latencies', async () => {
    let i = 0;
    const base = await serve((_req, _body, res) => {
      i += 1;
      if (i % 3 === 0) return json(res, 503, { error: { code: 'STORE_UNAVAILABLE' } });
      if (i % 3 === 1) return res.socket!.destroy();
      json(res, 201, {});
    });
    const r = await runPaced(
      base,
      { next: () => ({ path: '/x', body: '{}' }) },
      { rate: 300, seconds: 0.5, connections: 2 },
    );
    expect(r.requests + r.failed).toBe(i);
    expect(r.requests).toBe(Math.floor(i / 3) + (i % 3 === 2 ? 1 : 0));
    expect(r.failed).toBeGreaterThan(r.requests);
    expect(r.firstFailure).toBeDefined();
  });

  it('waits for a free connection when all are busy, and counts that wait', async () => {
    const base = await serve((_req, _body, res) => void setTimeout(() => json(res, 200, {}), 20));
    const r = await runPaced(
      base,
      { next: () => ({ path: '/slow', body: '{}' }) },
      { rate: 200, seconds: 0.5, connections: 1 },
    );
    // One connection answers at most one request per 20 ms, while one is due every 5 ms.
    expect(r.failed).toBe(0);
    expect(r.requests).toBeGreaterThan(10);
    expect(r.p99Ms).toBeGreaterThan(100);
  });
});
