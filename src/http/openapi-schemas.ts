/**
 * Response schemas of the foundation routes, with examples (API.md "Keys", "Principals and
 * tokens", "Audit and providers", "Health, docs, metrics"). Fastify serializes responses with
 * them, and drops any field a schema does not name, so each one is the complete shape the
 * service returns; the same schemas make the OpenAPI document.
 */
import Type from 'typebox';
import { ERRORS } from '../errors.js';

export const Hex = (description: string, example: string) =>
  Type.String({ pattern: '^0x[0-9a-f]*$', description, examples: [example] });
export const Time = Type.String({ format: 'date-time', examples: ['2025-06-01T12:00:00.000Z'] });
const PK = '0x02a1633cafcc01ebfb6d78e39f687a1f0995c62fc95f51ead10a02ee0be551b5dc';

/** The one error shape, a plain JSON schema for components.schemas (API.md "Conventions"). */
export const ErrorSchema = {
  type: 'object',
  description:
    'Every refusal. Codes and their statuses: ' +
    Object.entries(ERRORS)
      .map(([code, e]) => `${code} ${e.status}`)
      .join(', ') +
    '. INVALID_REQUEST messages name the field.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
        requestId: { type: 'string' },
      },
    },
  },
  examples: [
    {
      error: {
        code: 'INVALID_REQUEST',
        message: 'name is required',
        requestId: 'req_5f2a9c1e7b3d4a60',
      },
    },
  ],
};

export const KeyVersionView = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  state: Type.Union([
    Type.Literal('active'),
    Type.Literal('decrypt-only'),
    Type.Literal('destroyed'),
  ]),
  createdAt: Time,
  publicKey: Type.Optional(Hex("this version's public key", PK)),
});

export const KeyView = Type.Object(
  {
    name: Type.String(),
    algorithm: Type.String({
      description: 'bls12-381, secp256k1, ed25519, p-256, ml-dsa-65, hmac-sha256 or aes-256-gcm',
    }),
    purpose: Type.String(),
    publicKey: Type.Optional(Hex("the active version's public key (asymmetric keys)", PK)),
    chains: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{1,20}$' }), {
        description: 'chain ids (validator, bridge)',
      }),
    ),
    jwks: Type.Boolean({ description: 'published at /.well-known/jwks.json' }),
    residency: Type.Union([Type.Literal('wrapped'), Type.Literal('provider')]),
    protection: Type.Optional(
      Type.String({ description: '"device", or "software, wrapped by the device"' }),
    ),
    enabled: Type.Boolean(),
    minDecryptionVersion: Type.Integer({ minimum: 1 }),
    createdAt: Time,
    destroyedAt: Type.Optional(Time),
    versions: Type.Array(KeyVersionView),
  },
  {
    description: 'A key and its versions',
    examples: [
      {
        name: 'payments-signer',
        algorithm: 'secp256k1',
        purpose: 'signing',
        publicKey: PK,
        jwks: false,
        residency: 'wrapped',
        protection: 'device',
        enabled: true,
        minDecryptionVersion: 1,
        createdAt: '2025-06-01T12:00:00.000Z',
        versions: [
          { version: 1, state: 'active', createdAt: '2025-06-01T12:00:00.000Z', publicKey: PK },
        ],
      },
    ],
  },
);

export const KeyList = Type.Object({ keys: Type.Array(KeyView) });

/** RFC 8032 sec. 7.1 test 1 (Ed25519) and RFC 4231 test 2 (HMAC-SHA256) outputs. */
const SIG =
  '0xe5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const MAC = '0x5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';

export const SignResult = Type.Object(
  {
    signature: Type.Optional(
      Hex('the signature (ECDSA r||s, low-S; [v] with format recoverable)', SIG),
    ),
    mac: Type.Optional(Hex('HMAC-SHA256, for hmac-sha256 signing keys', MAC)),
    keyVersion: Type.Integer({ minimum: 1 }),
  },
  { examples: [{ signature: SIG, keyVersion: 1 }] },
);

export const Validity = Type.Object({ valid: Type.Boolean() }, { examples: [{ valid: true }] });

export const PrincipalView = Type.Object(
  {
    name: Type.String(),
    role: Type.String(),
    scopes: Type.Immutable(Type.Array(Type.String())),
    certificateFingerprints: Type.Immutable(Type.Array(Type.String())),
  },
  {
    examples: [
      {
        name: 'validator-1',
        role: 'validator',
        scopes: ['zoo-validator-1'],
        certificateFingerprints: [],
      },
    ],
  },
);

export const PrincipalList = Type.Object(
  { principals: Type.Array(PrincipalView) },
  {
    examples: [
      {
        principals: [
          { name: 'alice', role: 'admin', scopes: [], certificateFingerprints: [] },
          { name: 'pay-svc', role: 'signing', scopes: ['pay-*'], certificateFingerprints: [] },
        ],
      },
    ],
  },
);

export const NewToken = Type.Object(
  {
    tokenId: Type.String(),
    token: Type.String({ description: 'shown once; only its SHA-256 is stored' }),
    expiresAt: Time,
  },
  {
    examples: [
      {
        tokenId: 'tok_0123456789abcdef01234567',
        token: 'zkms_Qm9vdHN0cmFwIHRva2VuIGV4YW1wbGUgLSBub3QgcmVhbA',
        expiresAt: '2025-08-30T12:00:00.000Z',
      },
    ],
  },
);

export const TokenList = Type.Object(
  {
    tokens: Type.Array(
      Type.Object({
        tokenId: Type.String(),
        createdAt: Time,
        expiresAt: Time,
        revoked: Type.Boolean(),
      }),
    ),
  },
  {
    examples: [
      {
        tokens: [
          {
            tokenId: 'tok_0123456789abcdef01234567',
            createdAt: '2025-06-01T12:00:00.000Z',
            expiresAt: '2025-08-30T12:00:00.000Z',
            revoked: false,
          },
        ],
      },
    ],
  },
);

/** A plain schema, not TypeBox: the reply of a 204 has no body to type. */
export const NoContent = { type: 'null', description: 'No content' } as const;

export const Health = Type.Object({ status: Type.Literal('ok') }, { examples: [{ status: 'ok' }] });

export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    checks: Type.Array(
      Type.Object({
        name: Type.String(),
        status: Type.Union([Type.Literal('pass'), Type.Literal('fail')]),
        latencyMs: Type.Number(),
        error: Type.Optional(Type.String()),
      }),
    ),
  },
  {
    examples: [
      {
        status: 'ready',
        checks: [
          { name: 'store', status: 'pass', latencyMs: 0.4 },
          { name: 'provider:softhsm2', status: 'pass', latencyMs: 2.1 },
        ],
      },
    ],
  },
);

export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object({
        kty: Type.String(),
        crv: Type.Optional(Type.String()),
        alg: Type.String(),
        use: Type.String(),
        kid: Type.Optional(Type.String({ description: '{name}:{version}' })),
        x: Type.Optional(Type.String()),
        y: Type.Optional(Type.String()),
        pub: Type.Optional(Type.String()),
      }),
    ),
  },
  {
    // RFC 8037 sec. A.2: the Ed25519 public key of RFC 8032 sec. 7.1 test 1.
    examples: [
      {
        keys: [
          {
            kty: 'OKP',
            crv: 'Ed25519',
            alg: 'EdDSA',
            use: 'sig',
            kid: 'login-signer:1',
            x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
          },
        ],
      },
    ],
  },
);

export const MetricsText = {
  description: 'Prometheus text exposition format',
  content: { 'text/plain': { schema: { type: 'string' } } },
};
