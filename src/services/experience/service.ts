/**
 * Experience library encryption (API.md "Experience library", ZIP-014; docs/experience.md):
 * AES-256-GCM under per-user keys derived from `experience-master`, rewrap to the newest master
 * version, batches, crypto-shredding deletion, rotation. AES runs in process with the derived key
 * (cached), outside any transaction; each call's only write is its audit event, committed before
 * the result is released. Events carry the SHA-256 of the user id, never the id or plaintext.
 */
import { KmsError } from '../../errors.js';
import { aesGcmOpen, aesGcmSeal, newGcmIv } from '../../crypto/aead.js';
import { toBase64 } from '../../crypto/encoding.js';
import { IntegrityError } from '../../providers/provider.js';
import { audited } from '../../audit/log.js';
import { digestOf } from '../../audit/event.js';
import { findVersion, type KeyRecord, type KeyVersionRecord } from '../../keyring/record.js';
import { destroySalts } from '../../store/experience-salts.js';
import { usableActive, usableVersion, type KeysService } from '../keys.js';
import type { Caller, ServiceDeps } from '../context.js';
import { UserKeyCache } from './cache.js';
import { associatedData, maxCiphertextLength, parse, serialize, type Sealed } from './format.js';
import { checkContext, checkUser, parsePlaintext, userHashHex } from './input.js';
import { Master } from './master.js';
import { appendEvent, experienceEvent } from './events.js';
import { RotationTimer } from './rotation.js';
import { UserKeys, type User } from './user-keys.js';
import { itemError, settle, type Done, type ItemError } from './outcome.js';

export interface EncryptInput {
  readonly userId: string;
  /** Base64. */
  readonly plaintext: string;
  readonly context?: string | undefined;
}

export interface DecryptInput {
  readonly userId: string;
  readonly ciphertext: string;
  readonly context?: string | undefined;
}

export interface Encrypted {
  readonly ciphertext: string;
  readonly keyVersion: number;
}

export interface Decrypted {
  /** Base64. */
  readonly plaintext: string;
}

type Action = 'experience.encrypt' | 'experience.decrypt' | 'experience.rewrap';

export class ExperienceService {
  private readonly cache = new UserKeyCache();
  private readonly master: Master;
  private readonly users: UserKeys;
  private rotation: RotationTimer | undefined;

  constructor(
    private readonly deps: ServiceDeps,
    keys: KeysService,
    private readonly rotationCheckMs?: number,
  ) {
    this.master = new Master(deps, keys);
    this.users = new UserKeys(deps, this.cache);
    // A deletion, or a master version retired, destroyed or disabled, drops every cached key here
    // at commit, and on other instances at their next invalidation poll.
    deps.invalidations.on('experience', () => this.cache.clear());
    deps.invalidations.on('keys', () => this.cache.clear());
  }

  /** Starts automatic rotation (failures go to `onError`, and are retried); `close` stops it. */
  start(onError: (e: unknown) => void): void {
    this.rotation ??= new RotationTimer(this.master, onError, this.rotationCheckMs);
    this.rotation.start();
  }

  async close(): Promise<void> {
    await this.rotation?.stop();
    this.cache.clear();
  }

  encrypt(caller: Caller, input: EncryptInput): Promise<Encrypted> {
    return this.single(caller, 'experience.encrypt', input.userId, null, (hash) =>
      this.seal(input, '', hash),
    );
  }

  async decrypt(caller: Caller, input: DecryptInput): Promise<Decrypted> {
    return this.single(caller, 'experience.decrypt', input.userId, inputDigest(input), (hash) =>
      this.open(input, '', hash, decrypted),
    );
  }

  /** Decrypts and encrypts again under the newest master version and the user's live salt. */
  rewrap(caller: Caller, input: DecryptInput): Promise<Encrypted> {
    return this.single(caller, 'experience.rewrap', input.userId, inputDigest(input), (hash) =>
      this.open(input, '', hash, (plaintext, user, context, from) =>
        this.sealBytes(user, context, plaintext).then((d) => ({
          ...d,
          details: { fromVersion: from.keyVersion, fromGeneration: from.generation },
        })),
      ),
    );
  }

  encryptBatch(caller: Caller, items: readonly EncryptInput[]): Promise<(Encrypted | ItemError)[]> {
    return this.batch(
      caller,
      'experience.encrypt',
      items,
      () => null,
      (it, i, hash) => this.seal(it, `items[${i}].`, hash),
    );
  }

  decryptBatch(caller: Caller, items: readonly DecryptInput[]): Promise<(Decrypted | ItemError)[]> {
    return this.batch(caller, 'experience.decrypt', items, inputDigest, (it, i, hash) =>
      this.open(it, `items[${i}].`, hash, decrypted),
    );
  }

  /** Right to deletion: destroys every salt of the user (crypto-shredding), idempotently. */
  async deleteUser(caller: Caller, userId: string): Promise<void> {
    const hash = userHashHex(userId);
    const fields = experienceEvent(caller, {
      action: 'experience.delete_user',
      userHash: hash,
      digest: null,
    });
    let user: User;
    try {
      user = checkUser('userId', userId, hash);
    } catch (e) {
      await appendEvent(this.deps, fields, { ok: false, error: e });
      throw e;
    }
    await audited(this.deps.audit, this.deps.writer, fields, async (trx) => {
      await destroySalts(trx, user.hash, this.deps.now());
      await this.deps.invalidations.bump(trx, 'experience');
    });
  }

  /** POST /v1/experience/rotate: a new master version (audited as key.rotate). */
  rotate(caller: Caller): Promise<number> {
    return this.master.rotate(caller);
  }

  private async single<T>(
    caller: Caller,
    action: Action,
    userId: string,
    digest: string | null,
    work: (userHash: string) => Promise<Done<T>>,
  ): Promise<T> {
    const userHash = userHashHex(userId);
    const out = await settle(() => work(userHash));
    await appendEvent(this.deps, experienceEvent(caller, { action, userHash, digest }, out), out);
    if (!out.ok) throw out.error;
    return out.done.value;
  }

  /** One audit event per item (each its own append, all committed before any result is released). */
  private async batch<I extends { userId: string }, T>(
    caller: Caller,
    action: Action,
    items: readonly I[],
    digest: (item: I) => string | null,
    work: (item: I, index: number, userHash: string) => Promise<Done<T>>,
  ): Promise<(T | ItemError)[]> {
    const hashes = items.map((it) => userHashHex(it.userId));
    const outs = await Promise.all(items.map((it, i) => settle(() => work(it, i, hashes[i]!))));
    await Promise.all(
      outs.map((out, i) =>
        appendEvent(
          this.deps,
          experienceEvent(
            caller,
            { action, userHash: hashes[i]!, digest: digest(items[i]!), item: i },
            out,
          ),
          out,
        ),
      ),
    );
    return outs.map((out) => (out.ok ? out.done.value : itemError(out.error)));
  }

  private async seal(
    input: EncryptInput,
    field: string,
    userHash: string,
  ): Promise<Done<Encrypted>> {
    this.checkEnabled();
    const user = checkUser(`${field}userId`, input.userId, userHash);
    const context = checkContext(`${field}context`, input.context);
    const plaintext = parsePlaintext(
      `${field}plaintext`,
      input.plaintext,
      this.deps.config.experience.maxPlaintext,
    );
    try {
      return await this.sealBytes(user, context, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  /** Always the active version: an older master version never encrypts. */
  private async sealBytes(
    user: User,
    context: string,
    plaintext: Uint8Array,
  ): Promise<Done<Encrypted>> {
    const master = await this.master.current();
    const version = usableActive(master);
    const v = version.version;
    const { ciphertext, generation } = await this.users.forEncrypt(
      master,
      version,
      user,
      (key, generation) => {
        const iv = newGcmIv();
        const body = aesGcmSeal(
          key,
          iv,
          plaintext,
          associatedData(user.id, v, generation, context),
        );
        return { ciphertext: serialize({ keyVersion: v, generation, iv, body }), generation };
      },
    );
    return {
      value: { ciphertext, keyVersion: v },
      keyVersion: v,
      generation,
      digest: digestOf(ciphertext),
    };
  }

  /** Opens a ciphertext and hands the plaintext to `then`; the plaintext is wiped afterwards. */
  private async open<T>(
    input: DecryptInput,
    field: string,
    userHash: string,
    then: (plaintext: Uint8Array, user: User, context: string, sealed: Sealed) => Promise<Done<T>>,
  ): Promise<Done<T>> {
    this.checkEnabled();
    const user = checkUser(`${field}userId`, input.userId, userHash);
    const context = checkContext(`${field}context`, input.context);
    const max = maxCiphertextLength(this.deps.config.experience.maxPlaintext);
    const sealed = input.ciphertext.length <= max ? parse(input.ciphertext) : undefined;
    if (!sealed) throw new KmsError('DECRYPTION_FAILED');
    const master = await this.master.current();
    const version = decryptionVersion(master, sealed.keyVersion);
    const aad = associatedData(user.id, sealed.keyVersion, sealed.generation, context);
    const plaintext = await this.users.forDecrypt(master, version, user, sealed.generation, (key) =>
      openOrFail(key, sealed.iv, sealed.body, aad),
    );
    try {
      return await then(plaintext, user, context, sealed);
    } finally {
      plaintext.fill(0);
    }
  }

  private checkEnabled(): void {
    const c = this.deps.config.experience;
    if (!c.encryptionEnabled)
      throw new KmsError(
        'UNSUPPORTED',
        'experience encryption is disabled (experience_library.encryption_enabled)',
      );
    if (!c.perUserKeys)
      throw new KmsError(
        'UNSUPPORTED',
        'experience_library.per_user_keys: false is not supported: every user has a derived key',
      );
  }
}

function decrypted(
  plaintext: Uint8Array,
  _user: User,
  _context: string,
  sealed: Sealed,
): Promise<Done<Decrypted>> {
  return Promise.resolve({
    value: { plaintext: toBase64(plaintext) },
    keyVersion: sealed.keyVersion,
    generation: sealed.generation,
    digest: null,
  });
}

/** A version named by a ciphertext: unknown is a mismatch like any other (400, no detail). */
function decryptionVersion(master: KeyRecord, version: number): KeyVersionRecord {
  if (!findVersion(master, version)) throw new KmsError('DECRYPTION_FAILED');
  return usableVersion(master, version);
}

function openOrFail(
  key: Uint8Array,
  iv: Uint8Array,
  body: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  try {
    return aesGcmOpen(key, iv, body, aad);
  } catch (e) {
    if (e instanceof IntegrityError) throw new KmsError('DECRYPTION_FAILED');
    throw e;
  }
}

function inputDigest(input: DecryptInput): string {
  return digestOf(input.ciphertext);
}
