/**
 * A token bucket per key (CONFIG.md `validator.rate_limit.per_key`, `auth.rate_limit`): `rate`
 * tokens per second refill a bucket of `burst` tokens (default one second's worth, at least 1);
 * each operation takes one. Limits are per instance (API.md "Conventions": RATE_LIMITED 429 with
 * `retry-after`). A rate of 0 means no limit.
 *
 * Buckets live in a Map bounded by `maxKeys`: when it is full, buckets that have refilled
 * completely are dropped first (a full bucket is the same as no bucket), then the oldest.
 */
import { KmsError } from '../errors.js';

export interface RateLimitOptions {
  /** Tokens per second; 0 disables the limit. */
  readonly rate: number;
  /** Bucket size; default max(1, rate). */
  readonly burst?: number;
  /** Milliseconds. */
  readonly now?: () => number;
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.rate >= 0) || !Number.isFinite(opts.rate))
      throw new RangeError('rate must be a finite number >= 0');
    this.burst = opts.burst ?? Math.max(1, opts.rate);
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  get enabled(): boolean {
    return this.opts.rate > 0;
  }

  /** Takes a token for `key`; returns 0, or the seconds to wait until one is available. */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    const b = this.refilled(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.opts.rate;
  }

  /** `take`, throwing RATE_LIMITED with the wait as `retry-after`. */
  consume(key: string, what = key): void {
    const wait = this.take(key);
    if (wait > 0)
      throw new KmsError('RATE_LIMITED', `rate limit exceeded for ${what}`, { retryAfter: wait });
  }

  private refilled(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      this.makeRoom(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
      return b;
    }
    const elapsed = Math.max(0, now - b.at) / 1000;
    b.tokens = Math.min(this.burst, b.tokens + elapsed * this.opts.rate);
    b.at = now;
    return b;
  }

  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxKeys) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + (Math.max(0, now - b.at) / 1000) * this.opts.rate >= this.burst)
        this.buckets.delete(k);
    }
    while (this.buckets.size >= this.maxKeys)
      this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
