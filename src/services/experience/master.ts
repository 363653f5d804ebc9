/**
 * The experience master: the versioned HMAC-SHA256 key named `experience-master` (API.md
 * "Experience library"). Made on first use, or imported by an admin before; made and rotated under
 * the store lock, so across instances exactly one makes each version and the others find it
 * (ARCHITECTURE.md "Several instances").
 */
import { KmsError, isKmsError } from '../../errors.js';
import { activeVersion, type KeyRecord } from '../../keyring/record.js';
import { loadKey } from '../../keyring/repository.js';
import type { KeysService } from '../keys.js';
import type { Caller, ServiceDeps } from '../context.js';

export const MASTER = 'experience-master';
const DAY_MS = 86_400_000;

/** The caller of work the service starts itself (first-use creation, automatic rotation). */
export const SYSTEM: Caller = {
  principal: { name: 'system', role: 'admin', scopes: [], certificateFingerprints: [] },
  requestId: 'experience',
};

export class Master {
  /**
   * Whether the key is known to exist. Until then the timer reads the store directly: a keyring
   * lookup would cache a miss, and KeysService.create/import of the key would then not find it.
   */
  private known = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {}

  /** The master record, made on first use. */
  async current(): Promise<KeyRecord> {
    const cached = await this.deps.keyring.get(MASTER);
    if (cached) return this.found(cached);
    return this.deps.lock.withLock(MASTER, async () => {
      const again = await this.deps.keyring.get(MASTER);
      if (again) return this.found(again);
      if (!(await this.load())) await this.create();
      // The keyring caches misses, and another instance may have made the key: drop them (this
      // runs once per instance) so the record is read from the store.
      this.deps.keyring.forgetAll();
      return this.found(await this.keys.require(MASTER));
    });
  }

  private found(key: KeyRecord): KeyRecord {
    this.known = true;
    return checked(key);
  }

  private async create(): Promise<void> {
    this.deps.keyring.forgetAll();
    try {
      await this.keys.create(SYSTEM, {
        name: MASTER,
        algorithm: 'hmac-sha256',
        purpose: 'experience-master',
      });
    } catch (e) {
      // create() re-reads the key through the keyring after its commit; a request of this instance
      // may have cached a miss in between. The key exists then: the caller reads it afresh.
      if (!(isKmsError(e) && e.code === 'NOT_FOUND')) throw e;
    }
  }

  /** Adds a version (POST /v1/experience/rotate); returns the new active version. */
  async rotate(caller: Caller): Promise<number> {
    await this.current();
    return this.deps.lock.withLock(MASTER, async () => this.rotateLocked(caller));
  }

  /**
   * Rotates when the active version is `keyRotationDays` old (ARCHITECTURE.md item 5). The check
   * on the cached record is cheap, so a timer may call this often; the re-check under the lock
   * reads the store, so only one instance rotates.
   */
  async rotateIfDue(): Promise<number | undefined> {
    const key = this.known ? await this.deps.keyring.get(MASTER) : await this.load();
    if (!key) return undefined;
    this.known = true;
    if (!this.due(key)) return undefined;
    return this.deps.lock.withLock(MASTER, async () => {
      const stored = await this.load();
      return stored && this.due(stored) ? this.rotateLocked(SYSTEM) : undefined;
    });
  }

  private due(key: KeyRecord): boolean {
    const active = activeVersion(key);
    if (!active || key.destroyedAt !== null || !key.enabled) return false;
    return (
      this.deps.now() - active.createdAt >= this.deps.config.experience.keyRotationDays * DAY_MS
    );
  }

  private async rotateLocked(caller: Caller): Promise<number> {
    const stored = await this.load();
    // Another instance's rotation may not have reached this keyring's cache yet (250 ms poll);
    // KeysService.rotate numbers the new version from the record it reads.
    if (stored) this.deps.keyring.forget(stored);
    const key = await this.keys.rotate(caller, MASTER);
    const active = activeVersion(key);
    if (!active) throw new KmsError('KEY_DESTROYED', `key ${MASTER} has no active version`);
    return active.version;
  }

  private async load(): Promise<KeyRecord | undefined> {
    try {
      return await loadKey(this.deps.db, MASTER);
    } catch (e) {
      throw new KmsError('STORE_UNAVAILABLE', undefined, { cause: e });
    }
  }
}

/** The name/purpose pairing is enforced by KeysService; the algorithm is checked here. */
function checked(key: KeyRecord): KeyRecord {
  if (key.purpose !== 'experience-master' || key.algorithm !== 'hmac-sha256') {
    throw new KmsError(
      'WRONG_PURPOSE',
      `key ${MASTER} must be an hmac-sha256 key of purpose experience-master`,
    );
  }
  return key;
}
