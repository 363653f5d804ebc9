/**
 * The one narrow seam between the KMS and the devices that hold its root keys (ARCHITECTURE.md
 * "Key hierarchy" and "Providers and failover").
 *
 * Contract, for every implementation:
 * - Each provider holds exactly one AES-256 root key (KEK) that never leaves it. `open()` finds it,
 *   or creates it on first use; the caller holds the store's start-up lock while it runs, so several
 *   KMS instances sharing a device create it once.
 * - `wrap`/`unwrap` are AES-KWP (RFC 5649) under the root key (or the device's equivalent, e.g. the
 *   Cloud KMS root CryptoKey's encrypt). The blob format is the provider's own; it is only ever fed
 *   back to the same provider. `unwrap` returns a fresh buffer that the caller owns and must wipe.
 * - Operations on a `SecretRef` run inside the device when `capabilities` says so: the provider
 *   unwraps the blob into a non-extractable session object and may cache the handle under `ref.id`
 *   until `forget(ref.id)` or `close()`.
 * - A provider never logs, returns in an error, or persists plaintext key material.
 * - It throws only the error classes below: `ProviderUnavailableError` when the device cannot be
 *   reached (the caller fails over), `ProviderRefusedError` when the device refuses this input (key
 *   size, mechanism), `IntegrityError` when an unwrap or a decryption fails authentication.
 */
export type Algorithm =
  'bls12-381' | 'secp256k1' | 'ed25519' | 'p-256' | 'ml-dsa-65' | 'hmac-sha256' | 'aes-256-gcm';

export const ALGORITHMS: readonly Algorithm[] = [
  'bls12-381',
  'secp256k1',
  'ed25519',
  'p-256',
  'ml-dsa-65',
  'hmac-sha256',
  'aes-256-gcm',
];

/** Signature algorithms a device may run on a key it holds. */
export type DeviceSignAlgorithm = 'secp256k1' | 'p-256' | 'ed25519';

export interface Capabilities {
  /** HMAC-SHA256 inside the device; the shortest key it accepts (SoftHSM2: 32 bytes). */
  readonly hmac: { readonly minKeyBytes: number } | null;
  /** AES-256-GCM inside the device (12-byte IV, 16-byte tag). */
  readonly aesGcm: boolean;
  /** Signature algorithms run inside the device; every other algorithm is "software, wrapped by the device". */
  readonly sign: readonly DeviceSignAlgorithm[];
}

/** A wrapped secret version as one provider sees it. */
export interface SecretRef {
  /** Stable id of this secret version (`{keyId}:{version}`), the handle-cache key. */
  readonly id: string;
  readonly algorithm: Algorithm;
  /** This provider's blob, as returned by its own `wrap`. */
  readonly wrapped: Uint8Array;
}

export interface KeyProvider {
  /** Instance name from config (`softhsm2`, `hsm-a`, ...). */
  readonly name: string;
  /** Implementation kind: `software`, `pkcs11`, `google-cloud-kms`. */
  readonly kind: string;
  readonly capabilities: Capabilities;

  /** Connects, logs in, finds or creates the root key. Idempotent. */
  open(): Promise<void>;
  /** Wraps raw key material (the API's private-key encoding for `algorithm`). */
  wrap(algorithm: Algorithm, secret: Uint8Array): Promise<Uint8Array>;
  /** Unwraps to raw key material; the caller owns the buffer and wipes it. */
  unwrap(algorithm: Algorithm, wrapped: Uint8Array): Promise<Uint8Array>;
  /** HMAC-SHA256(key, data) with an `hmac-sha256` (or any secret) key, inside the device. */
  hmacSha256(ref: SecretRef, data: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM encrypt; returns ciphertext || 16-byte tag. `iv` must be 12 bytes. */
  aesGcmEncrypt(
    ref: SecretRef,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array>;
  /** AES-256-GCM decrypt of ciphertext || tag; throws `IntegrityError` on a bad tag. */
  aesGcmDecrypt(
    ref: SecretRef,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Promise<Uint8Array>;
  /**
   * Signs inside the device, only for algorithms in `capabilities.sign`. ECDSA: `input` is the
   * 32-byte SHA-256 digest and the answer is raw `r || s` (not yet low-S normalised). Ed25519:
   * `input` is the message (RFC 8032 pure).
   */
  sign(ref: SecretRef, input: Uint8Array): Promise<Uint8Array>;
  /** Drops cached handles whose id starts with `idPrefix`. */
  forget(idPrefix: string): void;
  /** A real canary operation (wrap then unwrap of random bytes); throws when unhealthy. */
  health(): Promise<void>;
  close(): Promise<void>;
}

export class ProviderUnavailableError extends Error {
  constructor(provider: string, detail: string, opts?: { cause?: unknown }) {
    super(`provider ${provider} is unavailable: ${detail}`, opts);
    this.name = 'ProviderUnavailableError';
  }
}

export class ProviderRefusedError extends Error {
  constructor(provider: string, detail: string, opts?: { cause?: unknown }) {
    super(`provider ${provider} refused the operation: ${detail}`, opts);
    this.name = 'ProviderRefusedError';
  }
}

export class IntegrityError extends Error {
  constructor(detail = 'authentication failed', opts?: { cause?: unknown }) {
    super(detail, opts);
    this.name = 'IntegrityError';
  }
}
