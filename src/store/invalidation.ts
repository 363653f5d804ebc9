/**
 * Cache invalidation across instances (ARCHITECTURE.md "Caches"): a deletion, rotation, disable or
 * revocation bumps its domain's generation in the same transaction. Locally the callbacks fire as soon
 * as that transaction commits (the very next request sees it); other instances poll the generations
 * every `pollMs` (250 ms, well inside the 1 s bound) and drop their caches when one moved.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { CommitListener, Trx, Writer } from './writer.js';

export type Domain = 'keys' | 'auth' | 'experience';

export class Invalidations implements CommitListener {
  private readonly seen = new Map<string, number>();
  private readonly callbacks = new Map<Domain, (() => void)[]>();
  private pending = new Set<Domain>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly db: Kysely<Database>,
    writer: Writer,
    private readonly pollMs = 250,
  ) {
    writer.addListener(this);
  }

  on(domain: Domain, cb: () => void): void {
    this.callbacks.set(domain, [...(this.callbacks.get(domain) ?? []), cb]);
  }

  async bump(trx: Trx, domain: Domain): Promise<void> {
    await trx
      .insertInto('invalidations')
      .values({ domain, generation: 1 })
      .onConflict((oc) =>
        oc.column('domain').doUpdateSet({ generation: sql`invalidations.generation + 1` }),
      )
      .execute();
    this.pending.add(domain);
  }

  committed(): void {
    const fired = this.pending;
    this.pending = new Set();
    for (const d of fired) this.fire(d);
  }

  /**
   * A failed transaction's bumps may have committed after all (a COMMIT whose answer was lost), so
   * their caches are dropped anyway: dropping is always safe, and the next request must not be
   * served from a cache its own instance may have invalidated.
   */
  rolledBack(): void {
    const uncertain = this.pending;
    this.pending = new Set();
    for (const d of uncertain) this.fire(d);
  }

  async start(): Promise<void> {
    await this.poll();
    this.started = true;
    this.timer = setInterval(() => void this.poll().catch(() => undefined), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const rows = await this.db.selectFrom('invalidations').selectAll().execute();
    for (const r of rows) {
      const gen = Number(r.generation);
      // A domain first bumped after start-up (no row yet at the first poll) fires too.
      const before = this.seen.get(r.domain) ?? (this.started ? 0 : undefined);
      this.seen.set(r.domain, gen);
      if (before !== undefined && before !== gen) this.fire(r.domain as Domain);
    }
  }

  private fire(domain: Domain): void {
    for (const cb of this.callbacks.get(domain) ?? []) cb();
  }
}
