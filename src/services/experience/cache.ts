/**
 * Per-instance caches of the experience hot path (ARCHITECTURE.md "Caches"): each user's live salt
 * generation, and derived user keys in a bounded LRU with a TTL that wipes every evicted key.
 * `clear()` runs the moment a user deletion or a master change commits here (and within the
 * invalidation poll, 250 ms, on other instances). A lookup that started before a clear must not
 * put its (possibly destroyed) result back: results are only kept when the epoch they were read
 * in is still current.
 */
import { SecretCache } from '../../keyring/secret-cache.js';

export interface UserKeyCacheOptions {
  readonly maxUsers?: number;
  readonly ttlMs?: number;
}

export class UserKeyCache {
  private epochValue = 0;
  private readonly live = new Map<string, number>();
  private readonly keys: SecretCache;
  private readonly maxUsers: number;

  constructor(opts: UserKeyCacheOptions = {}) {
    this.maxUsers = opts.maxUsers ?? 20_000;
    this.keys = new SecretCache(this.maxUsers, opts.ttlMs ?? 10 * 60_000);
  }

  /** The epoch to pass back to `remember*` after a store read. */
  get epoch(): number {
    return this.epochValue;
  }

  liveGeneration(user: string): number | undefined {
    return this.live.get(user);
  }

  /** Bounded: past `maxUsers`, the entry remembered longest ago goes. */
  rememberLive(epoch: number, user: string, generation: number): void {
    if (epoch !== this.epochValue) return;
    this.live.delete(user);
    this.live.set(user, generation);
    if (this.live.size > this.maxUsers) this.live.delete(this.live.keys().next().value as string);
  }

  /** A borrowed view of a cached key: use it synchronously, never keep it. */
  key(id: string): Uint8Array | undefined {
    return this.keys.get(id);
  }

  /** Takes ownership of `key` when the epoch is current; returns false (the caller wipes) if not. */
  rememberKey(epoch: number, id: string, key: Uint8Array): boolean {
    if (epoch !== this.epochValue) return false;
    this.keys.set(id, key);
    return true;
  }

  clear(): void {
    this.epochValue += 1;
    this.live.clear();
    this.keys.clear();
  }
}

/** The cache id of a derived key: master key id and version, salt generation, user hash. */
export function userKeyId(
  masterId: string,
  version: number,
  generation: number,
  userHash: string,
): string {
  return `${masterId}:${version}:${generation}:${userHash}`;
}
