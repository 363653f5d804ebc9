/**
 * A bounded LRU of unwrapped key material with a TTL; every eviction wipes the bytes
 * (ARCHITECTURE.md "Caches", STYLE.md rule 11). Callers get a borrowed view that they must not keep.
 * Entries past their TTL are wiped by a sweep every SWEEP_MS, even when nothing reads them again.
 */

/** How often every cache's expired secrets are looked for and wiped. */
export const SWEEP_MS = 30_000;

/** Every cache made, held weakly: a cache nobody holds any more is collected, and forgotten here. */
const caches = new Set<WeakRef<SecretCache>>();
let sweeper: NodeJS.Timeout | undefined;

function sweepAll(): void {
  for (const ref of caches) {
    const cache = ref.deref();
    if (cache) cache.sweep();
    else caches.delete(ref);
  }
}

export class SecretCache {
  private readonly map = new Map<string, { bytes: Uint8Array; expires: number }>();
  private generationValue = 0;

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    caches.add(new WeakRef(this));
    sweeper ??= setInterval(sweepAll, SWEEP_MS).unref();
  }

  get(id: string): Uint8Array | undefined {
    const e = this.map.get(id);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.delete(id);
      return undefined;
    }
    this.map.delete(id);
    this.map.set(id, e);
    return e.bytes;
  }

  /**
   * Moves with every `deletePrefix` and `clear` (a key changed, or every key). Read it before an
   * unwrap and give it to `set`: a secret unwrapped while its key was being destroyed is then not
   * put back after the destroy dropped it.
   */
  get generation(): number {
    return this.generationValue;
  }

  /**
   * Takes ownership of `bytes` and answers true, unless the cache was cleared (or had a prefix
   * dropped) since `generation` was read: then it answers false, and the caller keeps and wipes
   * them.
   */
  set(id: string, bytes: Uint8Array, generation = this.generationValue): boolean {
    if (generation !== this.generationValue) return false;
    this.delete(id);
    this.map.set(id, { bytes, expires: this.now() + this.ttlMs });
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
    return true;
  }

  /** Wipes and drops every entry past its TTL (`sweepAll` calls it every SWEEP_MS). */
  sweep(): void {
    const now = this.now();
    for (const [id, e] of this.map) if (e.expires <= now) this.delete(id);
  }

  delete(id: string): void {
    const e = this.map.get(id);
    if (!e) return;
    e.bytes.fill(0);
    this.map.delete(id);
  }

  deletePrefix(prefix: string): void {
    this.generationValue += 1;
    for (const id of [...this.map.keys()]) if (id.startsWith(prefix)) this.delete(id);
  }

  clear(): void {
    this.generationValue += 1;
    for (const id of [...this.map.keys()]) this.delete(id);
  }

  get size(): number {
    return this.map.size;
  }
}
