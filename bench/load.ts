/**
 * A closed-loop (or rate-limited) HTTP load on 127.0.0.1 with autocannon. Latencies are taken from
 * autocannon's `response` event in fractional milliseconds (its own histogram keeps whole
 * milliseconds, too coarse for a 1 ms target), for 2xx answers only; any other answer is counted
 * and the first one kept, so a run that was refused is reported as such, never as a rate.
 */
import autocannon from 'autocannon';

/** The next request to send, and a tag given back with its answer. */
export interface Next {
  readonly path: string;
  readonly body?: string;
  readonly tag?: unknown;
}

/**
 * What to send. autocannon resets a connection's context before each request, so targets keep
 * their own state: `next` is called once per request sent, `answered` once per answer received,
 * and `abandoned` after a run for the requests still in flight when it stopped (the server may
 * still complete them).
 */
export interface Target {
  readonly next: () => Next;
  readonly answered?: (tag: unknown) => void;
  readonly abandoned?: () => void;
  readonly method?: 'GET' | 'POST';
  readonly token?: string;
}

export interface LoadOptions {
  readonly connections: number;
  readonly seconds: number;
  /** Requests per second over all connections (open loop); default: as fast as answers come. */
  readonly rate?: number;
}

export interface LoadResult {
  readonly rate: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly firstFailure?: string;
}

export async function runLoad(base: string, t: Target, o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const inst = autocannon({
    url: base,
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    method: t.method ?? 'POST',
    headers: {
      'content-type': 'application/json',
      ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
    },
    ...(o.rate ? { overallRate: Math.max(1, Math.round(o.rate)) } : {}),
    requests: [
      {
        setupRequest: (req, ctx) => {
          const n = t.next();
          ctx.tag = n.tag;
          return { ...req, path: n.path, ...(n.body === undefined ? {} : { body: n.body }) };
        },
        onResponse: (status, body, ctx) => {
          t.answered?.(ctx.tag);
          if (status >= 200 && status < 300) return;
          failed += 1;
          firstFailure ??= `${status} ${body.slice(0, 300)}`;
        },
      },
    ],
  });
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const res = await inst;
  t.abandoned?.();
  failed += res.errors + res.timeouts;
  if (res.errors + res.timeouts > 0)
    firstFailure ??= `${res.errors} socket errors, ${res.timeouts} timeouts`;
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / res.duration,
    requests: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** The `q` quantile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
