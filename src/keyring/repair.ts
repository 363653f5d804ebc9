/**
 * Wrap repair (ARCHITECTURE.md "Key hierarchy" 2: one blob per configured provider, "so any healthy
 * provider can serve any key"). `Keyring.wrapForAll` wraps a new secret for the providers that are
 * healthy at that moment, so a key created or rotated while a provider was down has no blob for it,
 * and that provider could never serve the key after it returns. This job finds every live version
 * that lacks a provider's blob, unwraps it through a provider that holds one, wraps it for the
 * missing provider and stores the blob (one audit event per version, principal `system`).
 *
 * It runs for every healthy provider at start and for a provider each time it turns healthy again,
 * under the store lock `wrap-repair`, so several instances do the work once (the others then find
 * nothing missing). The crypto runs outside the transaction; inside it the version row is locked and
 * re-read, so a version destroyed meanwhile never gets a blob back (crypto-shredding holds; see
 * `destroyVersions`, which marks the version destroyed before it deletes the blobs).
 */
import type { Kysely } from 'kysely';
import { audited, type AuditLog } from '../audit/log.js';
import { KmsError } from '../errors.js';
import {
  ProviderUnavailableError,
  type Algorithm,
  type KeyProvider,
} from '../providers/provider.js';
import type { ProviderSet } from '../providers/set.js';
import type { Engine } from '../store/columns.js';
import type { Invalidations } from '../store/invalidation.js';
import type { StoreLock } from '../store/lock.js';
import type { Database } from '../store/schema.js';
import type { Trx, Writer } from '../store/writer.js';
import { addWrap } from './repository.js';

export interface WrapRepairDeps {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  readonly writer: Writer;
  readonly lock: StoreLock;
  readonly audit: AuditLog;
  readonly invalidations: Invalidations;
  readonly providers: ProviderSet;
}

export interface RepairReport {
  readonly provider: string;
  /** Versions that now hold a blob for the provider. */
  readonly repaired: number;
  /** Versions no other healthy provider could unwrap, or that the provider refused to wrap. */
  readonly failed: number;
  /** The provider went down during the run; the rest waits until it is healthy again. */
  readonly interrupted: boolean;
}

export interface RepairLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

interface Missing {
  readonly keyId: string;
  readonly name: string;
  readonly version: number;
  readonly algorithm: Algorithm;
}

const SYSTEM = 'system';

export class WrapRepair {
  private readonly runs = new Map<string, Promise<RepairReport>>();
  private readonly again = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly deps: WrapRepairDeps,
    private readonly log?: RepairLog,
  ) {}

  /** Repairs every healthy provider now, and each provider again when it turns healthy. */
  start(): void {
    this.unsubscribe = this.deps.providers.subscribe((name, healthy) => {
      if (healthy) void this.schedule(name);
    });
    for (const p of this.deps.providers.healthy()) void this.schedule(p.name);
  }

  /** Waits for runs in flight; no new run starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await Promise.allSettled([...this.runs.values()]);
  }

  /**
   * Repairs `name`'s missing blobs. A request while a run for it is in flight is served by one
   * more run after it (the provider may have flapped, and keys created meanwhile need it too).
   */
  schedule(name: string): Promise<RepairReport | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const current = this.runs.get(name);
    if (current) {
      this.again.add(name);
      return current;
    }
    const run = this.runLogged(name).finally(() => {
      this.runs.delete(name);
      if (this.again.delete(name)) void this.schedule(name);
    });
    this.runs.set(name, run);
    return run;
  }

  private async runLogged(name: string): Promise<RepairReport> {
    try {
      const report = await this.repair(name);
      if (report.repaired > 0 || report.failed > 0 || report.interrupted)
        this.log?.info({ ...report }, `wrap repair for provider ${name}`);
      return report;
    } catch (e) {
      this.log?.warn({ provider: name, err: e }, `wrap repair for provider ${name} failed`);
      return { provider: name, repaired: 0, failed: 0, interrupted: true };
    }
  }

  /** One pass over the versions lacking `name`'s blob, under the store lock. */
  async repair(name: string): Promise<RepairReport> {
    const target = this.deps.providers.get(name);
    if (!target) throw new Error(`wrap repair: no provider named ${name}`);
    return this.deps.lock.withLock('wrap-repair', async () => {
      let repaired = 0;
      let failed = 0;
      for (const m of await this.missing(name)) {
        if (this.stopped || !this.deps.providers.isHealthy(name))
          return { provider: name, repaired, failed, interrupted: true };
        const outcome = await this.repairOne(target, m);
        if (outcome === 'interrupted')
          return { provider: name, repaired, failed, interrupted: true };
        if (outcome === 'repaired') repaired++;
        if (outcome === 'failed') failed++;
      }
      if (repaired > 0)
        await this.deps.writer.run((trx) => this.deps.invalidations.bump(trx, 'keys'));
      return { provider: name, repaired, failed, interrupted: false };
    });
  }

  /** Live versions of wrapped keys with no blob for `provider`. */
  private async missing(provider: string): Promise<Missing[]> {
    const rows = await this.deps.db
      .selectFrom('key_versions as v')
      .innerJoin('keys as k', 'k.id', 'v.key_id')
      .select(['v.key_id as keyId', 'k.name as name', 'v.version as version', 'k.algorithm'])
      .where('v.state', '!=', 'destroyed')
      .where('k.residency', '=', 'wrapped')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('key_wraps as w')
              .select('w.key_id')
              .whereRef('w.key_id', '=', 'v.key_id')
              .whereRef('w.version', '=', 'v.version')
              .where('w.provider', '=', provider),
          ),
        ),
      )
      .orderBy('v.key_id')
      .orderBy('v.version')
      .execute();
    return rows.map((r) => ({ ...r, algorithm: r.algorithm as Algorithm }));
  }

  private async repairOne(
    target: KeyProvider,
    m: Missing,
  ): Promise<'repaired' | 'failed' | 'gone' | 'interrupted'> {
    const wraps = await this.wrapsOf(m);
    let secret: Uint8Array;
    try {
      secret = await this.deps.providers.run(
        (p) => p.unwrap(m.algorithm, wraps.get(p.name)!),
        (p) => p.name !== target.name && wraps.has(p.name),
        'healthy',
      );
    } catch (e) {
      this.log?.warn(
        { provider: target.name, key: m.name, version: m.version, err: e },
        'wrap repair: no provider holding this version could unwrap it',
      );
      return 'failed';
    }
    let blob: Uint8Array;
    try {
      blob = await target.wrap(m.algorithm, secret);
    } catch (e) {
      if (e instanceof ProviderUnavailableError) {
        this.deps.providers.markDown(target.name, e.message);
        return 'interrupted';
      }
      this.log?.warn({ provider: target.name, key: m.name, err: e }, 'wrap repair: refused');
      return 'failed';
    } finally {
      secret.fill(0);
    }
    return (await this.store(target.name, m, blob)) ? 'repaired' : 'gone';
  }

  private async wrapsOf(m: Missing): Promise<Map<string, Uint8Array>> {
    const rows = await this.deps.db
      .selectFrom('key_wraps')
      .select(['provider', 'blob'])
      .where('key_id', '=', m.keyId)
      .where('version', '=', m.version)
      .execute();
    return new Map(rows.map((r) => [r.provider, r.blob]));
  }

  /** Stores the blob unless the version was destroyed meanwhile; false when it was. */
  private async store(provider: string, m: Missing, blob: Uint8Array): Promise<boolean> {
    const fields = {
      action: 'key.wrap_repair',
      principal: SYSTEM,
      keyName: m.name,
      keyVersion: m.version,
      details: { provider },
    };
    try {
      await audited(this.deps.audit, this.deps.writer, fields, async (trx) => {
        if (!(await this.lockLive(trx, m)))
          throw new KmsError('KEY_DESTROYED', `${m.name} version ${m.version} was destroyed`);
        await addWrap(trx, m.keyId, m.version, provider, blob);
      });
      return true;
    } catch (e) {
      if (e instanceof KmsError && e.code === 'KEY_DESTROYED') return false;
      throw e;
    }
  }

  /** Locks the version row (PostgreSQL) and says whether it is still live. */
  private async lockLive(trx: Trx, m: Missing): Promise<boolean> {
    const q = trx
      .selectFrom('key_versions')
      .select('state')
      .where('key_id', '=', m.keyId)
      .where('version', '=', m.version);
    const row = await (this.deps.engine === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    return row !== undefined && row.state !== 'destroyed';
  }
}

/** What the job needs of the server it runs beside: a logger and the close hook. */
export interface RepairHost {
  readonly log: RepairLog;
  addHook(name: 'onClose', hook: () => Promise<void>): unknown;
}

/**
 * The job as a capability module (src/capabilities.ts): it starts with the server and stops, waiting
 * for a run in flight, before the store closes.
 */
export function wrapRepairModule(deps: WrapRepairDeps): (host: RepairHost) => Promise<void> {
  return async (host) => {
    const job = new WrapRepair(deps, host.log);
    host.addHook('onClose', () => job.stop());
    job.start();
  };
}
