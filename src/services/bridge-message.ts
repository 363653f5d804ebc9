/**
 * LP-401 bridge messages as pure functions (API.md "Bridge", ARCHITECTURE.md "Signing rules"):
 * parsing the request fields, the `messageHash` the KMS signs, and the chain and time rules of
 * ZIP-014 "Cross-Chain Bridge Security". No I/O here: the service supplies the clock and the key.
 */
import { createHash } from 'node:crypto';
import { KmsError, invalid } from '../errors.js';
import { parseHex, parseU64, u64be } from '../crypto/encoding.js';

/** The domain-separation string of bridge messages (STYLE.md rule 7). */
export const BRIDGE_DOMAIN = 'zoo-kms/bridge/lp-401/v1';

export interface BridgeMessage {
  readonly sourceChainId: bigint;
  readonly targetChainId: bigint;
  readonly nonce: bigint;
  /** Unix seconds. */
  readonly timestamp: bigint;
  readonly payload: Uint8Array;
}

/** The request fields as JSON gives them: u64 values as decimal strings or JSON numbers. */
export interface BridgeMessageInput {
  readonly sourceChainId: unknown;
  readonly targetChainId: unknown;
  readonly nonce: unknown;
  readonly timestamp: unknown;
  readonly payload: unknown;
}

export interface BridgeRules {
  readonly chainId: bigint;
  readonly allowedTargets: readonly bigint[];
  readonly maxAgeSeconds: number;
  readonly maxSkewSeconds: number;
}

/** Each field strictly in its documented form, or a 400 naming it; the payload size is checked before decoding. */
export function parseBridgeMessage(input: BridgeMessageInput, maxPayload: number): BridgeMessage {
  const sourceChainId = parseU64('sourceChainId', input.sourceChainId);
  const targetChainId = parseU64('targetChainId', input.targetChainId);
  const nonce = parseU64('nonce', input.nonce);
  const timestamp = parseU64('timestamp', input.timestamp);
  if (typeof input.payload === 'string' && input.payload.length > 2 + 2 * maxPayload) {
    throw invalid('payload', `must be at most ${maxPayload} bytes`);
  }
  return {
    sourceChainId,
    targetChainId,
    nonce,
    timestamp,
    payload: parseHex('payload', input.payload),
  };
}

/**
 * `SHA-256( utf8(BRIDGE_DOMAIN) || u64be(sourceChainId) || u64be(targetChainId) || u64be(nonce) ||
 * u64be(timestamp) || SHA-256(payload) )`, exactly as API.md "Bridge" fixes it.
 */
export function messageHash(m: BridgeMessage): Uint8Array {
  const payloadHash = createHash('sha256').update(m.payload).digest();
  const h = createHash('sha256').update(BRIDGE_DOMAIN);
  for (const v of [m.sourceChainId, m.targetChainId, m.nonce, m.timestamp]) h.update(u64be(v));
  return new Uint8Array(h.update(payloadHash).digest());
}

/**
 * The typed refusal a message gets, or undefined when it may be signed. `keyChains` are the
 * chains the key may sign for (null: no restriction recorded). Ages are measured in
 * milliseconds against `nowMs`, so a message exactly `maxAgeSeconds` old (or exactly
 * `maxSkewSeconds` ahead) still passes and one a millisecond beyond does not.
 */
export function checkMessage(
  m: BridgeMessage,
  rules: BridgeRules,
  keyChains: readonly bigint[] | null,
  nowMs: number,
): KmsError | undefined {
  if (m.sourceChainId !== rules.chainId) {
    return new KmsError(
      'CHAIN_NOT_ALLOWED',
      `sourceChainId ${m.sourceChainId} is not this chain (${rules.chainId})`,
    );
  }
  if (!rules.allowedTargets.includes(m.targetChainId)) {
    return new KmsError(
      'CHAIN_NOT_ALLOWED',
      `targetChainId ${m.targetChainId} is not an allowed target (${rules.allowedTargets.join(', ')})`,
    );
  }
  if (keyChains !== null && !keyChains.includes(m.targetChainId)) {
    return new KmsError(
      'CHAIN_NOT_ALLOWED',
      `targetChainId ${m.targetChainId} is not among the key's chains`,
    );
  }
  const now = BigInt(Math.floor(nowMs));
  const sent = m.timestamp * 1000n;
  if (now - sent > BigInt(Math.round(rules.maxAgeSeconds * 1000))) {
    return new KmsError(
      'MESSAGE_EXPIRED',
      `timestamp ${m.timestamp} is older than ${rules.maxAgeSeconds} s`,
    );
  }
  if (sent - now > BigInt(Math.round(rules.maxSkewSeconds * 1000))) {
    return new KmsError(
      'TIMESTAMP_IN_FUTURE',
      `timestamp ${m.timestamp} is more than ${rules.maxSkewSeconds} s in the future`,
    );
  }
  return undefined;
}
