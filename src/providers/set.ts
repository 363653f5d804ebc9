/**
 * The configured providers in priority order, with health (ARCHITECTURE.md "Providers and
 * failover"). Every secret is wrapped once per provider, so any healthy provider can serve any key:
 * an operation runs on the first healthy provider that holds what it needs, and when that provider
 * turns out to be unavailable mid-request it is taken out and the operation is retried once on the
 * next. A background check runs a real canary on each provider every `healthCheckIntervalMs`; a
 * failed provider is retried with exponential backoff (circuit breaker) and rejoins when it passes.
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
  readonly error?: string;
}

interface State {
  healthy: boolean;
  lastCheckAt: number | null;
  latencyMs: number | null;
  failures: number;
  nextCheckAt: number;
  error: string | undefined;
}

export interface ProviderSetOptions {
  readonly healthCheckIntervalMs: number;
  readonly onChange?: (name: string, healthy: boolean, error?: string) => void;
  readonly now?: () => number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

export class ProviderSet {
  private readonly states = new Map<string, State>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    readonly providers: readonly KeyProvider[],
    private readonly opts: ProviderSetOptions,
  ) {
    this.now = opts.now ?? Date.now;
    for (const p of providers) {
      this.states.set(p.name, {
        healthy: true,
        lastCheckAt: null,
        latencyMs: null,
        failures: 0,
        nextCheckAt: 0,
        error: undefined,
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

  /**
   * Runs `fn` on the first healthy provider accepted by `accept`; on ProviderUnavailableError marks
   * it down and retries once on the next one.
   */
  async run<T>(
    fn: (p: KeyProvider) => Promise<T>,
    accept: (p: KeyProvider) => boolean = () => true,
  ): Promise<T> {
    const candidates = this.healthy().filter(accept);
    let lastError: unknown;
    for (const p of candidates.slice(0, 2)) {
      try {
        return await fn(p);
      } catch (e) {
        if (!(e instanceof ProviderUnavailableError)) throw e;
        this.markDown(p.name, e.message);
        lastError = e;
      }
    }
    throw new KmsError('PROVIDER_UNAVAILABLE', undefined, { cause: lastError });
  }

  markDown(name: string, error: string): void {
    const s = this.states.get(name);
    if (!s) return;
    const was = s.healthy;
    s.healthy = false;
    s.failures += 1;
    s.error = error;
    s.nextCheckAt = this.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(s.failures - 1, 12));
    if (was) this.opts.onChange?.(name, false, error);
  }

  /** Runs the canary on every provider that is due: healthy ones every interval, failed ones on backoff. */
  async checkAll(force = false): Promise<void> {
    await Promise.all(
      this.providers.filter((p) => force || this.due(p.name)).map((p) => this.check(p)),
    );
  }

  private due(name: string): boolean {
    const s = this.states.get(name)!;
    if (!s.healthy) return this.now() >= s.nextCheckAt;
    return s.lastCheckAt === null || this.now() - s.lastCheckAt >= this.opts.healthCheckIntervalMs;
  }

  private async check(p: KeyProvider): Promise<void> {
    const s = this.states.get(p.name)!;
    const started = performance.now();
    try {
      await p.health();
      s.latencyMs = Math.round((performance.now() - started) * 100) / 100;
      s.lastCheckAt = this.now();
      const was = s.healthy;
      Object.assign(s, { healthy: true, failures: 0, error: undefined });
      if (!was) this.opts.onChange?.(p.name, true);
    } catch (e) {
      s.lastCheckAt = this.now();
      this.markDown(p.name, (e as Error).message);
    }
  }

  /** Ticks at most every second so a failed provider can rejoin as soon as its backoff ends. */
  start(): void {
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
        ...(s.error ? { error: s.error } : {}),
      };
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.providers.map((p) => p.close()));
  }
}
