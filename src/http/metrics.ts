/**
 * Prometheus metrics (API.md `/metrics`): requests and latency by route template, refusals by
 * code, provider health and latency, audit chain length and key counts. Labels are route
 * templates and codes only: no key names of users, no user ids, no secrets.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricSources {
  providers(): {
    name: string;
    healthy: boolean;
    latencyMs: number | null;
    operations?: { ok: number; unavailable: number };
  }[];
  auditLength(): Promise<number>;
  keyCounts(): Promise<{ algorithm: string; count: number }[]>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'kms_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'kms_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'kms_refusals_total',
    help: 'Requests refused, by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    const providerHealth = new Gauge({
      name: 'kms_provider_healthy',
      help: '1 when the provider passes its canary',
      labelNames: ['provider'],
      registers: [this.registry],
    });
    const providerLatency = new Gauge({
      name: 'kms_provider_canary_latency_ms',
      help: 'Latency of the last canary',
      labelNames: ['provider'],
      registers: [this.registry],
    });
    const providerOps = new Gauge({
      name: 'kms_provider_operations',
      help: 'Provider operations since start: ok, or failed because the provider was unavailable',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
    const audit = new Gauge({
      name: 'kms_audit_events',
      help: 'Audit events stored, all chains',
      registers: [this.registry],
    });
    const keys = new Gauge({
      name: 'kms_keys',
      help: 'Keys stored, by algorithm',
      labelNames: ['algorithm'],
      registers: [this.registry],
    });
    this.collect = async () => {
      for (const p of sources.providers()) {
        providerHealth.set({ provider: p.name }, p.healthy ? 1 : 0);
        if (p.latencyMs !== null) providerLatency.set({ provider: p.name }, p.latencyMs);
        if (p.operations) {
          providerOps.set({ provider: p.name, outcome: 'ok' }, p.operations.ok);
          providerOps.set({ provider: p.name, outcome: 'unavailable' }, p.operations.unavailable);
        }
      }
      audit.set(await sources.auditLength());
      keys.reset();
      for (const k of await sources.keyCounts()) keys.set({ algorithm: k.algorithm }, k.count);
    };
  }

  private readonly collect: () => Promise<void>;

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    await this.collect().catch(() => undefined);
    return this.registry.metrics();
  }

  refused(code: string): void {
    this.refusals.inc({ code });
  }

  instrument(app: FastifyInstance): void {
    // Callback-style: an async hook costs a promise and a microtask turn per request.
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      this.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
      done();
    });
    app.addHook('onSend', (_req, reply, payload, done) => {
      if (
        reply.statusCode >= 400 &&
        typeof payload === 'string' &&
        payload.startsWith('{"error"')
      ) {
        const code = /"code":"([A-Z_]+)"/.exec(payload)?.[1];
        if (code) this.refused(code);
      }
      done(null, payload);
    });
  }
}
