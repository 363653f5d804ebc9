/**
 * A bounded LRU of unwrapped session objects, keyed by `ref.id` and what the object is for.
 * Unwrapping costs a C_UnwrapKey (~20k/s on SoftHSM2, measurements.md) while the operation itself
 * is faster, so a warm handle roughly doubles throughput. Evicted objects are destroyed in the
 * device (C_DestroyObject); they never held key material in this process.
 */
export class HandleCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly max: number,
    private readonly destroy: (value: T) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    const old = this.entries.get(key);
    if (old !== undefined) this.destroy(old);
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, T];
      this.entries.delete(oldestKey);
      this.destroy(oldest);
    }
  }

  /** Destroys every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const [key, value] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.destroy(value);
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.destroy(value);
  }

  /** Forgets every entry without destroying it (its session is gone, and the objects with it). */
  abandon(): void {
    this.entries.clear();
  }
}
