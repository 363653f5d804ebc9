/**
 * Resolves a user's AES-256-GCM key for one master version: from the cache, or by reading the
 * user's salt and deriving through the provider's HMAC (derivation.ts). Keys are handed to a
 * synchronous callback only, so a cached key can never be evicted (and wiped) while in use.
 */
import { randomBytes } from 'node:crypto';
import { KmsError } from '../../errors.js';
import type { KeyRecord, KeyVersionRecord } from '../../keyring/record.js';
import {
  SALT_BYTES,
  createSalt,
  liveSalt,
  saltOf,
  type LiveSalt,
} from '../../store/experience-salts.js';
import type { ServiceDeps } from '../context.js';
import { UserKeyCache, userKeyId } from './cache.js';
import { deriveUserKey } from './derivation.js';

/** A user as the service handles it: the id (only in memory) and its SHA-256. */
export interface User {
  readonly id: string;
  readonly hash: Uint8Array;
  /** `0x`-prefixed hex of `hash`: the form in audit events and cache ids. */
  readonly hashHex: string;
}

export class UserKeys {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly cache: UserKeyCache,
  ) {}

  /** Runs `fn` with the user's live generation and key, making the user's first salt if needed. */
  async forEncrypt<T>(
    master: KeyRecord,
    version: KeyVersionRecord,
    user: User,
    fn: (key: Uint8Array, generation: number) => T,
  ): Promise<T> {
    const known = this.cache.liveGeneration(user.hashHex);
    if (known !== undefined) {
      const key = this.cache.key(userKeyId(master.id, version.version, known, user.hashHex));
      if (key) return fn(key, known);
    }
    const epoch = this.cache.epoch;
    const live =
      (await read(() => liveSalt(this.deps.db, user.hash))) ?? (await this.newSalt(user));
    const key = await this.derive(master, version, live.salt, user.id);
    this.cache.rememberLive(epoch, user.hashHex, live.generation);
    return this.use(
      epoch,
      userKeyId(master.id, version.version, live.generation, user.hashHex),
      key,
      (k) => fn(k, live.generation),
    );
  }

  /** Runs `fn` with the key of one salt generation: 410 once destroyed, 400 if it never existed. */
  async forDecrypt<T>(
    master: KeyRecord,
    version: KeyVersionRecord,
    user: User,
    generation: number,
    fn: (key: Uint8Array) => T,
  ): Promise<T> {
    const id = userKeyId(master.id, version.version, generation, user.hashHex);
    const cached = this.cache.key(id);
    if (cached) return fn(cached);
    const epoch = this.cache.epoch;
    const salt = await read(() => saltOf(this.deps.db, user.hash, generation));
    if (salt === undefined) throw new KmsError('DECRYPTION_FAILED');
    if (salt === 'destroyed')
      throw new KmsError(
        'USER_KEY_DESTROYED',
        `the user's key of salt generation ${generation} was destroyed`,
      );
    const key = await this.derive(master, version, salt, user.id);
    return this.use(epoch, id, key, fn);
  }

  private async newSalt(user: User): Promise<LiveSalt> {
    const salt = Uint8Array.from(randomBytes(SALT_BYTES));
    try {
      const live = await this.deps.writer.run((trx) =>
        createSalt(trx, user.hash, salt, this.deps.now()),
      );
      if (!live)
        throw new KmsError(
          'USER_KEY_DESTROYED',
          'the user was deleted while its first key was made; retry',
        );
      return live;
    } finally {
      salt.fill(0);
    }
  }

  private async derive(
    master: KeyRecord,
    version: KeyVersionRecord,
    salt: Uint8Array,
    userId: string,
  ): Promise<Uint8Array> {
    try {
      return await deriveUserKey(
        (data) => this.deps.keyring.hmac(master, version, data),
        version.version,
        salt,
        userId,
      );
    } finally {
      salt.fill(0);
    }
  }

  /** Caches `key` when no clear happened since `epoch` (else it is wiped after `fn`). */
  private use<T>(epoch: number, id: string, key: Uint8Array, fn: (key: Uint8Array) => T): T {
    const kept = this.cache.rememberKey(epoch, id, key);
    try {
      return fn(key);
    } finally {
      if (!kept) key.fill(0);
    }
  }
}

async function read<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (e) {
    throw new KmsError('STORE_UNAVAILABLE', undefined, { cause: e });
  }
}
