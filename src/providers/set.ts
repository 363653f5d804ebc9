/**
 * The configured providers in priority order, with health (ARCHITECTURE.md "Providers and
 * failover"). Every secret is wrapped once per provider, so any healthy provider can serve any key:
 * an operation runs on the first healthy provider that holds what it needs, and when that provider
 * turns out to be unavailable mid-request it is taken out and the operation is retried once on the
 * next. A background check runs a real canary on each provider every `healthCheckIntervalMs`; a
 * failed provider is retried with exponential backoff (circuit breaker: 1 s, 2 s, 4 s ... capped at
 * the health interval, so a provider that recovers is back within one interval) and rejoins when its
 * canary passes. Listeners hear every change of health (the wrap repair job listens for "healthy").
 */
import { KmsError } from '../errors.js';
import { ProviderUnavailableError, type Capabilities, type KeyProvider } from './provider.js';

export interface ProviderStatus {
  readonly name: string;
  readonly kind: string;
  readonly priority: number;
  readonly healthy: boolean;
  readonly lastCheckAt: string | null;
  readonly latencyMs: number | null;
  readonly capabilities: Capabilities;
  /** Operations this provider completed, and those it failed as unavailable, since start. */
  readonly operations: { readonly ok: number; readonly unavailable: number };
  readonly error?: string;
}

interface State {
  healthy: boolean;
  lastCheckAt: number | null;
  latencyMs: number | null;
  failures: number;
  nextCheckAt: number;
  error: string | undefined;
  /** The canary in flight: a second check joins it instead of running another. */
  checking: Promise<void> | undefined;
  ok: number;
  unavailable: number;
  /** `open()` failed at start-up: the next due check opens it first (`reopen`). */
  neverOpened: boolean;
}

export type HealthListener = (name: string, healthy: boolean, error?: string) => void;

export interface ProviderSetOptions {
  readonly healthCheckIntervalMs: number;
  readonly onChange?: HealthListener;
  readonly now?: () => number;
  /**
   * Opens a provider that never opened (its device was missing at start), under the store lock so
   * its root key is made once across instances. Without it such a provider stays out until restart.
   */
  readonly reopen?: (p: KeyProvider) => Promise<void>;
  /**
   * `kms.failover.enabled` (default true). False: operations run on the primary (the first
   * provider) only, and wait for it when it is down (503); the others still get every key's wraps,
   * so enabling failover, or making another provider primary, needs no re-wrapping.
   */
  readonly failover?: boolean;
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;

export class ProviderSet {
  private readonly states = new Map<string, State>();
  private readonly listeners = new Set<HealthListener>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly maxBackoffMs: number;

  constructor(
    readonly providers: readonly KeyProvider[],
    private readonly opts: ProviderSetOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.maxBackoffMs = Math.max(
      MIN_BACKOFF_MS,
      Math.min(MAX_BACKOFF_MS, opts.healthCheckIntervalMs),
    );
    if (opts.onChange) this.listeners.add(opts.onChange);
    for (const p of providers) {
      this.states.set(p.name, {
        healthy: true,
        lastCheckAt: null,
        latencyMs: null,
        failures: 0,
        nextCheckAt: 0,
        error: undefined,
        checking: undefined,
        ok: 0,
        unavailable: 0,
        neverOpened: false,
      });
    }
  }

  get(name: string): KeyProvider | undefined {
    return this.providers.find((p) => p.name === name);
  }

  /** Healthy providers, highest priority first. */
  healthy(): KeyProvider[] {
    return this.providers.filter((p) => this.states.get(p.name)?.healthy);
  }

  /** The providers that may run operations now: the healthy ones, or without failover the primary. */
  serving(): KeyProvider[] {
    const healthy = this.healthy();
    return this.opts.failover === false ? healthy.filter((p) => p === this.providers[0]) : healthy;
  }

  isHealthy(name: string): boolean {
    return this.states.get(name)?.healthy ?? false;
  }

  /** Calls `listener` on every change of a provider's health; returns the unsubscribe. */
  subscribe(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` on the first serving provider accepted by `accept` (`among: 'healthy'`: any healthy
   * one, for maintenance such as the wrap repair, which copies wraps whatever serves requests); on
   * ProviderUnavailableError marks it down and retries once on the next one. Any other error is
   * the answer (a refusal or a failed authentication does not depend on which provider ran it).
   */
  async run<T>(
    fn: (p: KeyProvider) => Promise<T>,
    accept: (p: KeyProvider) => boolean = () => true,
    among: 'serving' | 'healthy' = 'serving',
  ): Promise<T> {
    const candidates = (among === 'healthy' ? this.healthy() : this.serving()).filter(accept);
    let lastError: unknown;
    for (const p of candidates.slice(0, 2)) {
      const s = this.states.get(p.name)!;
      try {
        const result = await fn(p);
        s.ok += 1;
        return result;
      } catch (e) {
        if (!(e instanceof ProviderUnavailableError)) throw e;
        s.unavailable += 1;
        this.markDown(p.name, e.message);
        lastError = e;
      }
    }
    throw new KmsError('PROVIDER_UNAVAILABLE', undefined, { cause: lastError });
  }

  /** Takes a provider out until its canary passes again, after a backoff that doubles per failure. */
  /** Marks a provider whose `open()` failed at start-up: down, and reopened by the health check. */
  markUnopened(name: string, error: string): void {
    const s = this.states.get(name);
    if (s) s.neverOpened = true;
    this.markDown(name, error);
  }

  markDown(name: string, error: string): void {
    const s = this.states.get(name);
    if (!s) return;
    const was = s.healthy;
    s.healthy = false;
    s.failures += 1;
    s.error = error;
    const backoff = MIN_BACKOFF_MS * 2 ** Math.min(s.failures - 1, 16);
    s.nextCheckAt = this.now() + Math.min(this.maxBackoffMs, backoff);
    if (was) this.emit(name, false, error);
  }

  /** Runs the canary on every provider that is due: healthy ones every interval, failed ones on backoff. */
  async checkAll(force = false): Promise<void> {
    await Promise.all(
      this.providers.filter((p) => force || this.due(p.name)).map((p) => this.check(p)),
    );
  }

  private due(name: string): boolean {
    const s = this.states.get(name)!;
    if (s.checking) return false;
    if (!s.healthy) return this.now() >= s.nextCheckAt;
    return s.lastCheckAt === null || this.now() - s.lastCheckAt >= this.opts.healthCheckIntervalMs;
  }

  private check(p: KeyProvider): Promise<void> {
    const s = this.states.get(p.name)!;
    s.checking ??= this.canary(p, s).finally(() => {
      s.checking = undefined;
    });
    return s.checking;
  }

  private async canary(p: KeyProvider, s: State): Promise<void> {
    const started = performance.now();
    try {
      if (s.neverOpened && this.opts.reopen) {
        await this.opts.reopen(p);
        s.neverOpened = false;
      }
      await p.health();
      s.latencyMs = Math.round((performance.now() - started) * 100) / 100;
      s.lastCheckAt = this.now();
      const was = s.healthy;
      Object.assign(s, { healthy: true, failures: 0, error: undefined });
      if (!was) this.emit(p.name, true);
    } catch (e) {
      s.lastCheckAt = this.now();
      this.markDown(p.name, (e as Error).message);
    }
  }

  private emit(name: string, healthy: boolean, error?: string): void {
    for (const l of this.listeners) {
      try {
        l(name, healthy, error);
      } catch {
        // A listener's failure must not stop the others or the health check.
      }
    }
  }

  /** Ticks at most every second so a failed provider can rejoin as soon as its backoff ends. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.checkAll(),
      Math.min(this.opts.healthCheckIntervalMs, 1000),
    );
    this.timer.unref();
  }

  status(): ProviderStatus[] {
    return this.providers.map((p, i) => {
      const s = this.states.get(p.name)!;
      return {
        name: p.name,
        kind: p.kind,
        priority: i,
        healthy: s.healthy,
        lastCheckAt: s.lastCheckAt === null ? null : new Date(s.lastCheckAt).toISOString(),
        latencyMs: s.latencyMs,
        capabilities: p.capabilities,
        operations: { ok: s.ok, unavailable: s.unavailable },
        ...(s.error ? { error: s.error } : {}),
      };
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await Promise.allSettled(this.providers.map((p) => p.close()));
  }
}
