/**
 * What the OpenAPI document says about each operation beyond its schemas: the error codes it can
 * answer (API.md "Conventions" and each section's refusals) and, for routes whose own schema has
 * none, a summary and tag. Keys are `METHOD /path` in OpenAPI form (`{name}`).
 */
import type { ErrorCode } from '../errors.js';

export interface OperationDoc {
  readonly summary: string;
  /** Codes specific to this route; the common ones (auth, input, availability) are added for all. */
  readonly errors: readonly ErrorCode[];
}

const KEY_USE: ErrorCode[] = ['NOT_FOUND', 'WRONG_PURPOSE', 'KEY_DISABLED', 'KEY_DESTROYED'];
const DECRYPT: ErrorCode[] = [...KEY_USE, 'KEY_VERSION_RETIRED', 'DECRYPTION_FAILED'];
const EXPERIENCE: ErrorCode[] = [
  'DECRYPTION_FAILED',
  'USER_KEY_DESTROYED',
  'KEY_DISABLED',
  'KEY_DESTROYED',
  'KEY_VERSION_RETIRED',
];

export const OPERATIONS: Record<string, OperationDoc> = {
  'GET /healthz': { summary: 'Liveness', errors: [] },
  'GET /readyz': { summary: 'Readiness: the store and at least one provider', errors: [] },
  'GET /metrics': { summary: 'Prometheus metrics', errors: [] },
  'GET /.well-known/jwks.json': { summary: 'Published public keys', errors: [] },
  'POST /v1/principals': { summary: 'Create a principal', errors: ['ALREADY_EXISTS'] },
  'GET /v1/principals': { summary: 'List principals', errors: [] },
  'PATCH /v1/principals/{name}': {
    summary: 'Change scopes or fingerprints',
    errors: ['NOT_FOUND'],
  },
  'DELETE /v1/principals/{name}': { summary: 'Delete a principal', errors: ['NOT_FOUND'] },
  'POST /v1/principals/{name}/tokens': { summary: 'Issue a token', errors: ['NOT_FOUND'] },
  'GET /v1/principals/{name}/tokens': {
    summary: "List a principal's tokens",
    errors: ['NOT_FOUND'],
  },
  'DELETE /v1/tokens/{tokenId}': { summary: 'Revoke a token', errors: ['NOT_FOUND'] },
  'POST /v1/keys': { summary: 'Create a key', errors: ['ALREADY_EXISTS', 'UNSUPPORTED'] },
  'POST /v1/keys/import': { summary: 'Import a key', errors: ['ALREADY_EXISTS', 'UNSUPPORTED'] },
  'GET /v1/keys': { summary: "List the caller's keys", errors: [] },
  'GET /v1/keys/{name}': { summary: 'Read a key', errors: ['NOT_FOUND'] },
  'PATCH /v1/keys/{name}': { summary: 'Enable, disable, retire versions', errors: KEY_USE },
  'DELETE /v1/keys/{name}': { summary: 'Destroy every version', errors: ['NOT_FOUND'] },
  'POST /v1/keys/{name}/rotate': { summary: 'Rotate', errors: KEY_USE },
  'DELETE /v1/keys/{name}/versions/{version}': {
    summary: 'Destroy one version',
    errors: ['NOT_FOUND', 'KEY_DESTROYED'],
  },
  'POST /v1/keys/{name}/sign': { summary: 'Sign', errors: [...KEY_USE, 'UNSUPPORTED'] },
  'POST /v1/keys/{name}/verify': { summary: 'Verify with a stored key', errors: KEY_USE },
  'POST /v1/verify': { summary: 'Verify with any public key', errors: [] },
  'POST /v1/keys/{name}/encrypt': { summary: 'Encrypt (AES-256-GCM)', errors: KEY_USE },
  'POST /v1/keys/{name}/decrypt': { summary: 'Decrypt', errors: DECRYPT },
  'POST /v1/keys/{name}/rewrap': {
    summary: 'Re-encrypt under the newest version',
    errors: DECRYPT,
  },
  'POST /v1/keys/{name}/datakey': { summary: 'A fresh wrapped data key', errors: KEY_USE },
  'POST /v1/keys/{name}/derive': { summary: 'Derive a key (HKDF-Expand)', errors: KEY_USE },
  'POST /v1/validators/{key}/block-signatures': {
    summary: 'Sign a block under double-sign protection',
    errors: [...KEY_USE, 'DOUBLE_SIGN', 'HEIGHT_REGRESSION', 'CHAIN_NOT_ALLOWED', 'RATE_LIMITED'],
  },
  'POST /v1/validators/{key}/proof-of-possession': {
    summary: 'Proof of possession',
    errors: [...KEY_USE, 'CHAIN_NOT_ALLOWED'],
  },
  'GET /v1/validators/{key}/watermark': {
    summary: 'Read the watermark',
    errors: ['NOT_FOUND', 'WRONG_PURPOSE', 'CHAIN_NOT_ALLOWED'],
  },
  'GET /v1/validators/slashing-protection': { summary: 'Export watermarks', errors: [] },
  'POST /v1/validators/slashing-protection': { summary: 'Import watermarks', errors: [] },
  'POST /v1/bridge/{key}/signatures': {
    summary: 'Sign a bridge message (LP-401)',
    errors: [
      ...KEY_USE,
      'NONCE_REUSED',
      'CHAIN_NOT_ALLOWED',
      'MESSAGE_EXPIRED',
      'TIMESTAMP_IN_FUTURE',
      'RATE_LIMITED',
    ],
  },
  'POST /v1/bridge/verify': { summary: 'Verify a bridge signature', errors: [] },
  'POST /v1/experience/encrypt': { summary: "Encrypt a user's data", errors: EXPERIENCE },
  'POST /v1/experience/decrypt': { summary: "Decrypt a user's data", errors: EXPERIENCE },
  'POST /v1/experience/rewrap': {
    summary: 'Re-encrypt under the newest master',
    errors: EXPERIENCE,
  },
  'POST /v1/experience/encrypt:batch': { summary: 'Encrypt up to 1,000 items', errors: EXPERIENCE },
  'POST /v1/experience/decrypt:batch': { summary: 'Decrypt up to 1,000 items', errors: EXPERIENCE },
  'DELETE /v1/experience/users/{userId}': { summary: "Destroy a user's keys", errors: [] },
  'POST /v1/experience/rotate': {
    summary: 'Rotate the experience master',
    errors: ['KEY_DISABLED'],
  },
  'GET /v1/replicate/{ecosystem}/{env}/{service}/recipients': {
    summary: "A service's age recipients",
    errors: ['KEY_DISABLED', 'KEY_DESTROYED'],
  },
  'POST /v1/replicate/{ecosystem}/{env}/{service}/identity': {
    summary: "A service's age identity, encrypted to wrapTo",
    errors: ['NOT_FOUND', 'KEY_DISABLED', 'KEY_DESTROYED'],
  },
  'POST /v1/replicate/{ecosystem}/{env}/rotate': {
    summary: 'Rotate a replicate master',
    errors: ['KEY_DISABLED'],
  },
  'GET /v1/audit/events': { summary: 'Audit events, paged', errors: [] },
  'GET /v1/audit/verify': { summary: 'Verify every audit chain', errors: [] },
  'GET /v1/audit/checkpoint-key': { summary: 'The checkpoint public key', errors: [] },
  'GET /v1/providers': { summary: 'Key providers and their health', errors: [] },
};

/** The tag of a path, for routes whose schema names none. */
export function tagOf(path: string): string {
  const m = /^\/v1\/([a-z-]+)/.exec(path);
  if (!m) return 'system';
  if (/\/(encrypt|decrypt|rewrap|datakey|derive)$/.test(path) && m[1] === 'keys')
    return 'encryption';
  if (m[1] === 'tokens') return 'principals';
  if (m[1] === 'verify') return 'keys';
  if (m[1] === 'providers') return 'audit';
  return m[1]!;
}

/**
 * Descriptions for routes whose schema has none yet (the capability routes), from API.md. A route
 * that sets `schema.description` itself wins.
 */
export const DESCRIPTIONS: Record<string, string> = {
  'POST /v1/keys/{name}/encrypt':
    'AES-256-GCM; `context` (a flat object of strings) is bound as associated data, keys sorted.',
  'POST /v1/keys/{name}/decrypt':
    'Any mismatch of key, context or ciphertext: 400 DECRYPTION_FAILED.',
  'POST /v1/keys/{name}/rewrap': 'Decrypts and encrypts again under the newest version.',
  'POST /v1/keys/{name}/datakey':
    'A fresh data key wrapped by the named key (decryptable with decrypt), and in the clear unless `plaintext: false`.',
  'POST /v1/keys/{name}/derive':
    'HKDF-Expand keyed by an hmac-sha256 derivation key, info `principal || 0x00 || info`; with `wrapTo` (an age recipient) the key comes back as an armored age file.',
  'POST /v1/validators/{key}/block-signatures':
    'Signs SHA-256("zoo-kms/validator/block/v1" || chainId || height || round || blockHash) under the chain tag, after recording the watermark. Same request again: same signature.',
  'POST /v1/validators/{key}/proof-of-possession':
    'BLS proof of possession of the key (POP_PROVE over the compressed public key).',
  'GET /v1/validators/{key}/watermark':
    'The highest (height, round) signed for the chain, its block hash and the signature counter.',
  'GET /v1/validators/slashing-protection':
    'The interchange file (zoo-kms/1) of every watermark of a chain, by public key.',
  'POST /v1/validators/slashing-protection':
    'Imports an interchange file; never lowers a watermark; a block without signing_root blocks re-signing at its height.',
  'POST /v1/bridge/{key}/signatures':
    'Signs the LP-401 message hash under the target chain tag; a nonce is single-use per key and target chain (the identical message again returns the same signature).',
  'POST /v1/bridge/verify':
    'Verifies a bridge signature (several keys: aggregate over one message).',
  'POST /v1/experience/encrypt':
    "AES-256-GCM under the user's derived key; the user id, master version and context are bound.",
  'POST /v1/experience/decrypt':
    'Wrong user, context or a tampered ciphertext: 400 DECRYPTION_FAILED; a deleted salt generation: 410 USER_KEY_DESTROYED.',
  'POST /v1/experience/rewrap': 'Re-encrypts under the newest experience master version.',
  'POST /v1/experience/encrypt:batch': 'Up to 1,000 items; one result or error per item, in order.',
  'POST /v1/experience/decrypt:batch': 'Up to 1,000 items; one result or error per item, in order.',
  'DELETE /v1/experience/users/{userId}':
    "Right to deletion: destroys the user's salts, so their keys cannot be derived again.",
  'POST /v1/experience/rotate': 'A new version of the key named experience-master.',
  'GET /v1/replicate/{ecosystem}/{env}/{service}/recipients':
    "The service's age recipients (ML-KEM-768+X25519 and X25519) and its S3 prefix.",
  'POST /v1/replicate/{ecosystem}/{env}/{service}/identity':
    "The service's age identity, as an armored age file encrypted to the sidecar's ephemeral recipient `wrapTo`.",
  'POST /v1/replicate/{ecosystem}/{env}/rotate':
    'A new version of replicate-master.{ecosystem}.{env}; older versions stay for restores.',
};
