/**
 * Bridge message signing (API.md "Bridge", LP-401 as ZIP-014 adopts it). The order is the one of
 * STYLE.md rule 6, with the slow part moved out of the transaction: check the key, the fields and
 * the chain and time rules; compute the BLS signature speculatively (no lock held, so the group
 * commit of src/store/writer.ts is never stalled by a signing); then, in one audited transaction,
 * claim the nonce (or find the message that already holds it); release the signature only after
 * that commit. A speculative signature whose nonce claim fails is discarded, never returned.
 */
import { timingSafeEqual } from 'node:crypto';
import { KmsError } from '../errors.js';
import { audited } from '../audit/log.js';
import type { AuditFields } from '../audit/event.js';
import { resolveTag, tagBytes } from '../crypto/bls/tags.js';
import { u64ToString } from '../crypto/encoding.js';
import type { KeyRecord, KeyVersionRecord } from '../keyring/record.js';
import { claimNonce } from '../store/bridge-nonces.js';
import type { Trx } from '../store/writer.js';
import {
  checkMessage,
  messageHash,
  parseBridgeMessage,
  type BridgeMessage,
  type BridgeMessageInput,
} from './bridge-message.js';
import { usableActive, type KeysService } from './keys.js';
import type { Caller, ServiceDeps } from './context.js';

export const BRIDGE_SIGN = 'bridge.sign';

export interface BridgeSignature {
  readonly signature: Uint8Array;
  readonly messageHash: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface BridgeVerifyInput extends BridgeMessageInput {
  /** One key, or several for fast aggregate verification of the one message. */
  readonly publicKeys: readonly Uint8Array[];
  readonly signature: Uint8Array;
}

export class BridgeService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {}

  /** Signs one message with the bridge key `name`; every outcome is one audit event. */
  async sign(caller: Caller, name: string, input: BridgeMessageInput): Promise<BridgeSignature> {
    const base = this.keys.event(caller, BRIDGE_SIGN, name, null);
    const { key, version } = await this.guard(base, () => this.bridgeKey(name));
    const keyed: AuditFields = { ...base, keyVersion: version.version };
    const message = await this.guard(keyed, () =>
      parseBridgeMessage(input, this.deps.config.bridge.maxPayload),
    );
    const hash = messageHash(message);
    const fields: AuditFields = {
      ...keyed,
      digest: Buffer.from(hash).toString('hex'),
      details: detailsOf(message),
    };
    const refusal = checkMessage(message, this.deps.config.bridge, key.chains, this.deps.now());
    if (refusal) return this.fail(fields, refusal);
    const signature = await this.guard(fields, () =>
      this.compute(key, version, hash, this.signatureDst(message.targetChainId)),
    );
    const released = await audited(this.deps.audit, this.deps.writer, fields, (trx) =>
      this.recordNonce(trx, key, version, message, hash, signature),
    );
    return { signature: released, messageHash: hash, publicKey: version.publicKey! };
  }

  /** POST /v1/bridge/verify: stateless; malformed keys or signatures are simply invalid. */
  async verify(input: BridgeVerifyInput): Promise<boolean> {
    const message = parseBridgeMessage(input, this.deps.config.bridge.maxPayload);
    const dst = this.signatureDst(message.targetChainId);
    if (input.publicKeys.length === 0) return false;
    return this.deps.bls.verify([...input.publicKeys], messageHash(message), input.signature, dst);
  }

  private async bridgeKey(name: string): Promise<{ key: KeyRecord; version: KeyVersionRecord }> {
    const key = await this.keys.require(name);
    if (key.purpose !== 'bridge')
      throw new KmsError('WRONG_PURPOSE', `key ${name} has purpose ${key.purpose}, not bridge`);
    return { key, version: usableActive(key) };
  }

  /** The target chain's signature tag (API.md "Bridge": signed under the target chain's tag). */
  private signatureDst(targetChainId: bigint): Uint8Array {
    const profile = this.deps.config.chains.find((c) => c.id === targetChainId);
    if (!profile)
      throw new KmsError(
        'CHAIN_NOT_ALLOWED',
        `targetChainId ${targetChainId} has no chain profile in the config`,
      );
    try {
      return tagBytes(resolveTag(profile.signatureTag));
    } catch {
      throw new KmsError(
        'CHAIN_NOT_ALLOWED',
        `chain ${targetChainId} has no valid signature_tag in the config`,
      );
    }
  }

  private compute(
    key: KeyRecord,
    version: KeyVersionRecord,
    hash: Uint8Array,
    dst: Uint8Array,
  ): Promise<Uint8Array> {
    // bls.sign copies the borrowed secret before it yields, so a cache eviction cannot race it.
    return this.deps.keyring.withSecret(key, version, (sk) => this.deps.bls.sign(sk, hash, dst));
  }

  /**
   * Inside the audited transaction: a fresh nonce records this message and releases the new
   * signature; the identical message again gets the recorded signature (a safe retry); any other
   * message under a used nonce is NONCE_REUSED.
   */
  private async recordNonce(
    trx: Trx,
    key: KeyRecord,
    version: KeyVersionRecord,
    m: BridgeMessage,
    hash: Uint8Array,
    signature: Uint8Array,
  ): Promise<Uint8Array> {
    const prior = await claimNonce(trx, {
      publicKey: version.publicKey!,
      targetChainId: m.targetChainId,
      nonce: m.nonce,
      messageHash: hash,
      signature,
      keyName: key.name,
      at: this.deps.now(),
    });
    if (!prior) return signature;
    if (prior.messageHash.length === hash.length && timingSafeEqual(prior.messageHash, hash))
      return new Uint8Array(prior.signature);
    throw new KmsError(
      'NONCE_REUSED',
      `nonce ${m.nonce} was already used with another message to chain ${m.targetChainId}`,
    );
  }

  /** Runs `fn`; a failure is recorded as this operation's one audit event and rethrown. */
  private guard<T>(fields: AuditFields, fn: () => T | Promise<T>): Promise<T> {
    return Promise.resolve()
      .then(fn)
      .catch((e: unknown) => this.fail(fields, e));
  }

  /** Records `error` as this operation's one audit event (a refusal, or an error) and rethrows it. */
  private fail(fields: AuditFields, error: unknown): Promise<never> {
    return audited(this.deps.audit, this.deps.writer, fields, async () => {
      throw error;
    });
  }
}

/** Small, non-secret facts for the audit event (the payload itself stays out: its size only). */
function detailsOf(m: BridgeMessage): Record<string, string | number> {
  return {
    sourceChainId: u64ToString(m.sourceChainId),
    targetChainId: u64ToString(m.targetChainId),
    nonce: u64ToString(m.nonce),
    timestamp: u64ToString(m.timestamp),
    payloadBytes: m.payload.length,
  };
}
