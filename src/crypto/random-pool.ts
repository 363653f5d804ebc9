/**
 * CSPRNG output handed out a few bytes at a time from a buffer refilled by `randomFillSync` when
 * spent: a `randomBytes` call per GCM IV or request id cost more than the work it served
 * (docs/performance.md). Every byte is handed out once (the offset only moves forward), and each
 * caller gets its own copy. For public values (IVs, ids) only: the pool is never wiped.
 */
import { randomFillSync } from 'node:crypto';

export class RandomPool {
  private readonly pool: Buffer;
  private at: number;

  constructor(size: number) {
    this.pool = Buffer.alloc(size);
    this.at = size;
  }

  /** `n` fresh random bytes, copied out of the pool. */
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return new Uint8Array(this.pool.subarray(at, at + n));
  }

  /** `n` fresh random bytes as lowercase hex. */
  hex(n: number): string {
    const at = this.take(n);
    return this.pool.toString('hex', at, at + n);
  }

  private take(n: number): number {
    if (n > this.pool.length) throw new RangeError('more bytes than the pool holds');
    if (this.at + n > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const at = this.at;
    this.at += n;
    return at;
  }
}
