/**
 * Response schemas of the audit and provider routes (API.md "Audit and providers"), with
 * examples; complete, because Fastify's serializer drops any field a response schema omits.
 */
import Type from 'typebox';
import { Hex, Time } from './openapi-schemas.js';

const ChainHead = Type.Object({
  instance: Type.String(),
  events: Type.Integer({ minimum: 0 }),
  head: Type.String({ description: 'hex SHA-256 of the last event' }),
});

export const AuditEvents = Type.Object(
  {
    events: Type.Array(
      Type.Object({
        instance: Type.String(),
        seq: Type.Integer(),
        time: Time,
        principal: Type.Union([Type.String(), Type.Null()]),
        action: Type.String({ examples: ['key.sign'] }),
        key: Type.Union([Type.String(), Type.Null()]),
        keyVersion: Type.Union([Type.Integer(), Type.Null()]),
        outcome: Type.String({ examples: ['success', 'refused', 'error'] }),
        code: Type.Union([Type.String(), Type.Null()], {
          description: 'the error code of a refusal',
        }),
        requestId: Type.Union([Type.String(), Type.Null()]),
        digest: Type.Union([Type.String(), Type.Null()], {
          description: 'digest of the inputs, never the inputs',
        }),
        details: Type.Unknown({ description: 'small non-secret facts (an object), or null' }),
        hash: Hex(
          "this event's chain hash",
          '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        ),
      }),
    ),
    next: Type.Union([Type.String(), Type.Null()], {
      description: 'cursor for `after`, null at the end',
    }),
  },
  {
    examples: [
      {
        events: [
          {
            instance: 'kms-1',
            seq: 42,
            time: '2025-06-01T12:00:00.000Z',
            principal: 'pay-svc',
            action: 'key.sign',
            key: 'payments-signer',
            keyVersion: 2,
            outcome: 'success',
            code: null,
            requestId: 'req_5f2a9c1e7b3d4a60',
            digest: 'a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e',
            details: null,
            hash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          },
        ],
        next: null,
      },
    ],
  },
);

export const AuditVerify = Type.Union(
  [
    Type.Object({
      ok: Type.Literal(true),
      chains: Type.Array(ChainHead),
      checkpoint: Type.Union([
        Type.Object({
          instance: Type.String(),
          seq: Type.Integer(),
          ts: Type.Integer({ description: 'milliseconds' }),
          chains: Type.Immutable(Type.Array(ChainHead)),
          keyVersion: Type.Integer(),
        }),
        Type.Null(),
      ]),
    }),
    Type.Object({
      ok: Type.Literal(false),
      brokenAt: Type.Object({ instance: Type.String(), seq: Type.Integer() }),
      reason: Type.String(),
    }),
  ],
  {
    examples: [
      { ok: false, brokenAt: { instance: 'kms-1', seq: 42 }, reason: 'event 42 was altered' },
    ],
  },
);

/** RFC 8032 sec. 7.1 test 2's public key, as an example. */
const CK = '0x3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29';

export const CheckpointKey = Type.Object(
  {
    algorithm: Type.String({ examples: ['ed25519'] }),
    publicKey: Hex('Ed25519 public key', CK),
    keyVersion: Type.Integer(),
    versions: Type.Array(
      Type.Object({ version: Type.Integer(), publicKey: Type.Union([Type.String(), Type.Null()]) }),
    ),
  },
  {
    examples: [
      {
        algorithm: 'ed25519',
        publicKey: CK,
        keyVersion: 1,
        versions: [{ version: 1, publicKey: CK }],
      },
    ],
  },
);

export const Providers = Type.Array(
  Type.Object({
    name: Type.String(),
    kind: Type.String({ examples: ['pkcs11', 'software', 'google-cloud-kms'] }),
    priority: Type.Integer({ minimum: 0 }),
    healthy: Type.Boolean(),
    lastCheckAt: Type.Union([Time, Type.Null()]),
    latencyMs: Type.Union([Type.Number(), Type.Null()]),
    capabilities: Type.Object({
      hmac: Type.Union([Type.Object({ minKeyBytes: Type.Integer() }), Type.Null()]),
      aesGcm: Type.Boolean(),
      sign: Type.Immutable(Type.Array(Type.String())),
    }),
    error: Type.Optional(Type.String()),
  }),
  {
    examples: [
      [
        {
          name: 'softhsm2',
          kind: 'pkcs11',
          priority: 0,
          healthy: true,
          lastCheckAt: '2025-06-01T12:00:00.000Z',
          latencyMs: 1.2,
          capabilities: { hmac: { minKeyBytes: 32 }, aesGcm: true, sign: ['secp256k1', 'p-256'] },
        },
      ],
    ],
  },
);
