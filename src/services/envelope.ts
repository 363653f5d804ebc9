/**
 * Envelope encryption, data keys and derived keys (API.md "Encryption, data keys, derived keys";
 * HIP-0302 layers 1 and 2). AES-256-GCM runs inside the provider when its capability table says so
 * (SoftHSM2 does), otherwise on the unwrapped key in memory; HKDF-Expand runs through the
 * provider's HMAC, so a derivation master never leaves the HSM (ARCHITECTURE.md invariant 4).
 * The crypto happens outside any transaction; the one audit event per call commits before a
 * result is released. Events carry digests of ciphertexts and inputs, never plaintext or keys.
 */
import { randomBytes } from 'node:crypto';
import { Encrypter } from 'age-encryption';
import { encryptArmored } from '../crypto/age-identity.js';
import { KmsError, invalid } from '../errors.js';
import { audited } from '../audit/log.js';
import { digestOf } from '../audit/event.js';
import { aesGcmOpen, aesGcmSeal, newGcmIv } from '../crypto/aead.js';
import { hkdfExpand } from '../crypto/hkdf.js';
import { parseBase64, toBase64 } from '../crypto/encoding.js';
import { IntegrityError } from '../providers/provider.js';
import {
  findVersion,
  type KeyRecord,
  type KeyVersionRecord,
  type Purpose,
} from '../keyring/record.js';
import { aadOf, canonicalContext, decodeEnvelope, encodeEnvelope } from './envelope-format.js';
import { usableActive, usableVersion, type KeysService } from './keys.js';
import type { Caller, ServiceDeps } from './context.js';

/** The largest plaintext `encrypt` takes (docs/envelope.md); the default body limit fits it. */
export const MAX_PLAINTEXT_BYTES = 1024 * 1024;
/** `datakey` sizes, as AWS KMS GenerateDataKey's NumberOfBytes. */
export const DATAKEY_BYTES = { min: 1, max: 1024, default: 32 } as const;
export const DERIVE_DEFAULT_LENGTH = 32;
export const MAX_INFO_BYTES = 1024;
const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Details = Record<string, string | number | boolean | null>;

/** What an operation learned for its audit event as it went (the version may fail later). */
interface Note {
  version: number | null;
  digest: string | null;
  details: Details | null;
}

export interface Sealed {
  readonly ciphertext: string;
  readonly keyVersion: number;
}

export interface DeriveRequest {
  readonly info: string;
  readonly length?: number | undefined;
  readonly wrapTo?: string | undefined;
  readonly principal?: string | undefined;
  readonly keyVersion?: number | undefined;
}

export class EnvelopeService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {}

  /**
   * `plaintext` is the request's base64: decoded here, inside the audited operation, so a refused
   * value is the operation's one audit event like any other refusal. The bytes are wiped after.
   */
  async encrypt(
    caller: Caller,
    name: string,
    plaintext: unknown,
    context: unknown,
  ): Promise<Sealed> {
    return this.operation(caller, 'key.encrypt', name, 'encryption', async (key, note) => {
      const bytes = parseBase64('plaintext', plaintext);
      try {
        if (bytes.length > MAX_PLAINTEXT_BYTES)
          throw invalid('plaintext', `must be at most ${MAX_PLAINTEXT_BYTES} bytes`);
        return await this.seal(key, bytes, canonicalContext(context), note);
      } finally {
        bytes.fill(0);
      }
    });
  }

  /** The plaintext, owned by the caller (wipe it after use). */
  async decrypt(
    caller: Caller,
    name: string,
    ciphertext: string,
    context: unknown,
  ): Promise<{ plaintext: Uint8Array }> {
    return this.operation(caller, 'key.decrypt', name, 'encryption', async (key, note) => ({
      plaintext: await this.open(key, ciphertext, canonicalContext(context), note),
    }));
  }

  /** Decrypts with the version the ciphertext names and encrypts again with the active one. */
  async rewrap(
    caller: Caller,
    name: string,
    ciphertext: string,
    context: unknown,
  ): Promise<Sealed> {
    return this.operation(caller, 'key.rewrap', name, 'encryption', async (key, note) => {
      const ctx = canonicalContext(context);
      const plaintext = await this.open(key, ciphertext, ctx, note);
      const from = note.version;
      try {
        const sealed = await this.seal(key, plaintext, ctx, note);
        note.details = { fromVersion: from };
        return sealed;
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** A fresh data key wrapped by `name`; `plaintext` is absent when `withPlaintext` is false. */
  async datakey(
    caller: Caller,
    name: string,
    req: { bytes?: number | undefined; context?: unknown; plaintext?: boolean | undefined },
  ): Promise<Sealed & { plaintext?: Uint8Array }> {
    return this.operation(caller, 'key.datakey', name, 'encryption', async (key, note) => {
      const bytes = req.bytes ?? DATAKEY_BYTES.default;
      if (!Number.isInteger(bytes) || bytes < DATAKEY_BYTES.min || bytes > DATAKEY_BYTES.max) {
        throw invalid(
          'bytes',
          `must be an integer from ${DATAKEY_BYTES.min} to ${DATAKEY_BYTES.max}`,
        );
      }
      const withPlaintext = req.plaintext ?? true;
      note.details = { bytes, plaintext: withPlaintext };
      const dataKey = Uint8Array.from(randomBytes(bytes));
      try {
        const sealed = await this.seal(key, dataKey, canonicalContext(req.context), note);
        return withPlaintext ? { ...sealed, plaintext: Uint8Array.from(dataKey) } : sealed;
      } finally {
        dataKey.fill(0);
      }
    });
  }

  /**
   * HKDF-Expand(master_v, utf8(principal) || 0x00 || utf8(info), length): the caller's own
   * principal unless an admin names another, so a service derives only its own keys.
   */
  async derive(
    caller: Caller,
    name: string,
    req: DeriveRequest,
  ): Promise<{ key?: Uint8Array; wrapped?: string; keyVersion: number }> {
    return this.operation(caller, 'key.derive', name, 'derivation', async (key, note) => {
      const principal = this.derivationPrincipal(caller, req.principal);
      const info = infoBytes(principal, req.info);
      const length = req.length ?? DERIVE_DEFAULT_LENGTH;
      if (req.wrapTo !== undefined) checkRecipient(req.wrapTo);
      note.digest = digestOf(principal, req.info, String(length), req.wrapTo ?? '');
      note.details = { principal, length, wrapped: req.wrapTo !== undefined };
      const version =
        req.keyVersion === undefined ? usableActive(key) : usableVersion(key, req.keyVersion);
      note.version = version.version;
      const okm = await hkdfExpand(
        (data) => this.deps.keyring.hmac(key, version, data),
        info,
        length,
      );
      if (req.wrapTo === undefined) return { key: okm, keyVersion: version.version };
      // On the age workers, as the replicate identities: their ML-KEM-768 checks the recipient's
      // key (FIPS 203's modulus check, which age's own @noble/post-quantum 0.5.4 lacks).
      try {
        return {
          wrapped: await encryptArmored('wrapTo', req.wrapTo, okm),
          keyVersion: version.version,
        };
      } finally {
        okm.fill(0);
      }
    });
  }

  private derivationPrincipal(caller: Caller, named: string | undefined): string {
    const own = caller.principal.name;
    if (named === undefined || named === own) return own;
    if (caller.principal.role !== 'admin')
      throw new KmsError('FORBIDDEN', 'only an admin may derive keys for another principal');
    if (!PRINCIPAL_NAME.test(named)) throw invalid('principal', 'must be a principal name');
    return named;
  }

  private async seal(
    key: KeyRecord,
    plaintext: Uint8Array,
    context: Uint8Array,
    note: Note,
  ): Promise<Sealed> {
    const version = usableActive(key);
    note.version = version.version;
    const iv = newGcmIv();
    const aad = aadOf(key.name, version.version, context);
    const sealed = this.deps.keyring.canInDevice(version, 'aesGcm')
      ? await this.deps.keyring.inDevice(key, version, 'aesGcm', (p, ref) =>
          p.aesGcmEncrypt(ref, iv, plaintext, aad),
        )
      : await this.deps.keyring.withSecret(key, version, (k) => aesGcmSeal(k, iv, plaintext, aad));
    const bytes = encodeEnvelope({ keyVersion: version.version, iv, sealed });
    note.digest = digestOf(bytes, context);
    return { ciphertext: toBase64(bytes), keyVersion: version.version };
  }

  private async open(
    key: KeyRecord,
    ciphertext: string,
    context: Uint8Array,
    note: Note,
  ): Promise<Uint8Array> {
    const bytes = parseBase64('ciphertext', ciphertext);
    note.digest = digestOf(bytes, context);
    const env = decodeEnvelope(bytes);
    note.version = env.keyVersion;
    const version = decryptionVersion(key, env.keyVersion);
    const aad = aadOf(key.name, env.keyVersion, context);
    return this.deps.keyring.canInDevice(version, 'aesGcm')
      ? this.deps.keyring.inDevice(key, version, 'aesGcm', (p, ref) =>
          p.aesGcmDecrypt(ref, env.iv, env.sealed, aad),
        )
      : this.deps.keyring.withSecret(key, version, (k) => aesGcmOpen(k, env.iv, env.sealed, aad));
  }

  /**
   * Loads the key, checks its purpose, runs `fn`, and records exactly one audit event, success or
   * refusal; a result is returned only after its event committed.
   */
  private async operation<T extends object>(
    caller: Caller,
    action: string,
    name: string,
    purpose: Purpose,
    fn: (key: KeyRecord, note: Note) => Promise<T>,
  ): Promise<T> {
    const note: Note = { version: null, digest: null, details: null };
    const fields = () => ({
      ...this.keys.event(caller, action, name, note.version),
      digest: note.digest,
      details: note.details,
    });
    let value: T;
    try {
      const key = await this.keys.require(name);
      if (key.purpose !== purpose)
        throw new KmsError(
          'WRONG_PURPOSE',
          `key ${name} has purpose ${key.purpose}, not ${purpose}`,
        );
      value = await fn(key, note);
    } catch (e) {
      const refusal = e instanceof IntegrityError ? new KmsError('DECRYPTION_FAILED') : e;
      return audited(this.deps.audit, this.deps.writer, fields(), async () => {
        throw refusal;
      });
    }
    try {
      await audited(this.deps.audit, this.deps.writer, fields());
    } catch (e) {
      wipeBytes(value);
      throw e;
    }
    return value;
  }
}

/** A version that may decrypt; one the key never had is just another mismatch (no oracle). */
function decryptionVersion(key: KeyRecord, n: number): KeyVersionRecord {
  if (key.enabled && !findVersion(key, n)) throw new KmsError('DECRYPTION_FAILED');
  return usableVersion(key, n);
}

/** `utf8(principal) || 0x00 || utf8(info)`; principal names never contain 0x00, so it is unambiguous. */
function infoBytes(principal: string, info: string): Uint8Array {
  if (/\p{Surrogate}/u.test(info)) throw invalid('info', 'must be well-formed Unicode');
  const encoded = Buffer.from(info, 'utf8');
  if (encoded.length > MAX_INFO_BYTES)
    throw invalid('info', `must be at most ${MAX_INFO_BYTES} bytes of UTF-8`);
  return Uint8Array.from(
    Buffer.concat([Buffer.from(principal, 'utf8'), Uint8Array.of(0), encoded]),
  );
}

/** Refuses anything but an age recipient (`age1...` X25519 or `age1pq1...` ML-KEM-768+X25519). */
function checkRecipient(recipient: string): void {
  if (!/^age1(pq1)?[02-9ac-hj-np-z]+$/.test(recipient))
    throw invalid('wrapTo', 'must be an age recipient (age1... or age1pq1...)');
  try {
    new Encrypter().addRecipient(recipient);
  } catch {
    throw invalid('wrapTo', 'must be an age recipient (age1... or age1pq1...)');
  }
}

function wipeBytes(value: object): void {
  for (const v of Object.values(value)) if (v instanceof Uint8Array) v.fill(0);
}
