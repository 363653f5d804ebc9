/**
 * An open-loop load at an even rate, for latency "at half the maximum rate". autocannon's
 * `overallRate` is a per-second quota: every connection fires back to back at the start of each
 * second until the quota is spent, then idles, so its latencies are those of a saturated server.
 * Here requests are issued on a 1 ms tick, as many as are due by then (a few per tick), over
 * keep-alive connections; a request's latency runs from the moment it is issued to its last byte,
 * and a request issued while every connection is busy waits for one (that wait counts).
 *
 * The client is raw HTTP/1.1 over `net` sockets (one request at a time per connection, no
 * pipelining), as autocannon's is: node's `http.request` cost the load generator, on the same two
 * cores as the server, about three times the CPU and garbage per request, and its own event-loop
 * pauses were counted as the server's latency (docs/performance.md).
 */
import net from 'node:net';
import { percentile, type LoadResult, type Target } from './load.js';

export interface PacedOptions {
  readonly rate: number;
  readonly seconds: number;
  /** Most connections open at once; a request due while all are busy waits for one (and that wait counts). */
  readonly connections: number;
}

interface Pending {
  readonly bytes: Buffer;
  readonly tag: unknown;
  readonly issued: number;
}

const HEADERS_END = Buffer.from('\r\n\r\n');

/** Status and body length of a response head (`content-length` is required: Fastify sends it). */
function parseHead(head: string): { status: number; length: number } | string {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? NaN);
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
  if (!Number.isInteger(status)) return `unparsable response head: ${head.slice(0, 100)}`;
  if (!Number.isInteger(length)) return `response without content-length: ${head.slice(0, 200)}`;
  return { status, length };
}

/** One keep-alive connection that carries one request at a time. */
class Connection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private current: Pending | undefined;
  private closed = false;

  constructor(
    port: number,
    host: string,
    private readonly done: (c: Connection, p: Pending, status: number, body: Buffer) => void,
    private readonly lost: (c: Connection, p: Pending | undefined, why: string) => void,
  ) {
    this.socket = net.connect({ port, host, noDelay: true });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e.message));
    this.socket.on('close', () => this.fail('connection closed by the server'));
  }

  send(p: Pending): void {
    this.current = p;
    this.socket.write(p.bytes);
  }

  /** Closes it at the end of a run: not a loss. */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (!this.current) return this.fail('bytes from the server without a request');
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, d]) : d;
    const at = this.buffered.indexOf(HEADERS_END);
    if (at < 0) return;
    const head = parseHead(this.buffered.toString('latin1', 0, at));
    if (typeof head === 'string') return this.fail(head);
    const end = at + HEADERS_END.length + head.length;
    if (this.buffered.length < end) return;
    if (this.buffered.length > end) return this.fail('bytes beyond the response');
    const body = this.buffered.subarray(at + HEADERS_END.length, end);
    const p = this.current;
    this.buffered = Buffer.alloc(0);
    this.current = undefined;
    this.done(this, p, head.status, body);
  }

  /** The connection is lost (an error, the server closed it, a response it cannot read), once. */
  private fail(why: string): void {
    if (this.closed) return;
    this.destroy();
    const p = this.current;
    this.current = undefined;
    this.lost(this, p, why);
  }
}

export async function runPaced(base: string, t: Target, o: PacedOptions): Promise<LoadResult> {
  const url = new URL(base);
  const port = Number(url.port);
  const head = (path: string, length: number) =>
    `${t.method ?? 'POST'} ${path} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    'content-type: application/json\r\n' +
    (t.token ? `authorization: Bearer ${t.token}\r\n` : '') +
    `content-length: ${length}\r\n\r\n`;
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let inFlight = 0;
  const idle: Connection[] = [];
  const waiting: Pending[] = [];
  const open = new Set<Connection>();

  const finish = (p: Pending) => {
    inFlight -= 1;
    t.answered?.(p.tag);
  };
  const dispatch = (c: Connection) => {
    const next = waiting.shift();
    if (next) c.send(next);
    else idle.push(c);
  };
  const done = (c: Connection, p: Pending, status: number, body: Buffer) => {
    finish(p);
    if (status >= 200 && status < 300) latencies.push(performance.now() - p.issued);
    else {
      failed += 1;
      firstFailure ??= `${status} ${body.toString().slice(0, 300)}`;
    }
    dispatch(c);
  };
  const lost = (c: Connection, p: Pending | undefined, why: string) => {
    open.delete(c);
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
    if (p) {
      finish(p);
      failed += 1;
      firstFailure ??= why;
    }
    const next = waiting.shift();
    if (next) submit(next);
  };
  const submit = (p: Pending) => {
    const c = idle.pop();
    if (c) return c.send(p);
    if (open.size < o.connections) {
      const fresh = new Connection(port, url.hostname, done, lost);
      open.add(fresh);
      return fresh.send(p);
    }
    waiting.push(p);
  };
  const issue = () => {
    const n = t.next();
    const body = Buffer.from(n.body ?? '');
    const bytes = Buffer.concat([Buffer.from(head(n.path, body.length), 'latin1'), body]);
    inFlight += 1;
    submit({ bytes, tag: n.tag, issued: performance.now() });
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
        issue();
      }
      if (now < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Let the requests in flight finish (bounded), so the tail is not cut off.
  const drainBy = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
  for (const c of open) c.destroy();
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
