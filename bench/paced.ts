/**
 * An open-loop load at an even rate, for latency "at half the maximum rate". autocannon's
 * `overallRate` is a per-second quota: every connection fires back to back at the start of each
 * second until the quota is spent, then idles, so its latencies are those of a saturated server.
 * Here requests are issued on a 1 ms tick, as many as are due by then (a few per tick), over
 * keep-alive connections; a request's latency runs from the moment it is issued to its last byte.
 */
import http from 'node:http';
import { percentile, type LoadResult, type Target } from './load.js';

export interface PacedOptions {
  readonly rate: number;
  readonly seconds: number;
  /** Most connections open at once; a request due while all are busy waits for one (and that wait counts). */
  readonly connections: number;
}

export async function runPaced(base: string, t: Target, o: PacedOptions): Promise<LoadResult> {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let inFlight = 0;
  const send = () => {
    const n = t.next();
    const started = performance.now();
    inFlight += 1;
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: t.method ?? 'POST',
        path: n.path,
        headers: {
          'content-type': 'application/json',
          ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          inFlight -= 1;
          t.answered?.(n.tag);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) latencies.push(performance.now() - started);
          else {
            failed += 1;
            firstFailure ??= `${status} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
          }
        });
      },
    );
    req.on('error', (e) => {
      inFlight -= 1;
      failed += 1;
      firstFailure ??= e.message;
    });
    req.end(n.body);
  };
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - start) / 1000) * o.rate);
      while (issued < due) {
        issued += 1;
        send();
      }
      if (now < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Let the requests in flight finish (bounded), so the tail is not cut off.
  const drainBy = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / o.seconds,
    requests: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed: failed + inFlight,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
