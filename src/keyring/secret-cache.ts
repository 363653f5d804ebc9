/**
 * A bounded LRU of unwrapped key material with a TTL; every eviction wipes the bytes
 * (ARCHITECTURE.md "Caches", STYLE.md rule 11). Callers get a borrowed view that they must not keep.
 */
export class SecretCache {
  private readonly map = new Map<string, { bytes: Uint8Array; expires: number }>();

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

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

  /** Takes ownership of `bytes`. */
  set(id: string, bytes: Uint8Array): void {
    this.delete(id);
    this.map.set(id, { bytes, expires: this.now() + this.ttlMs });
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(id: string): void {
    const e = this.map.get(id);
    if (!e) return;
    e.bytes.fill(0);
    this.map.delete(id);
  }

  deletePrefix(prefix: string): void {
    for (const id of [...this.map.keys()]) if (id.startsWith(prefix)) this.delete(id);
  }

  clear(): void {
    for (const id of [...this.map.keys()]) this.delete(id);
  }

  get size(): number {
    return this.map.size;
  }
}
