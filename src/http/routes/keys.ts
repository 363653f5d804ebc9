/** API.md "Keys": administration (admin), sign and verify (role `signing`). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { KmsError, invalid } from '../../errors.js';
import { parseBase64, parseHex, parseU64, toHex as hex } from '../../crypto/encoding.js';
import { keyInScope } from '../../services/auth.js';
import type { SignInput } from '../../crypto/signatures.js';
import type { Services } from '../../app.js';
import { callerOf } from '../auth.js';
import { keyView } from '../views.js';
import { KeyName, U64 } from '../schemas.js';
import { KeyList, KeyView, SignResult, Validity } from '../openapi-schemas.js';

const NameParams = Type.Object({ name: KeyName }, { additionalProperties: false });

/** 403 for a name outside the caller's scopes, existing or not (no existence oracle), audited. */
export async function authorizeKey(
  services: Services,
  req: FastifyRequest,
  name: string,
  action: string,
): Promise<void> {
  const caller = callerOf(req);
  if (!keyInScope(caller.principal, name)) {
    await services.keys.refuse(
      caller,
      action,
      name,
      new KmsError('FORBIDDEN', `key ${name} is outside the caller's scopes`),
    );
  }
}

export function signInput(body: {
  message?: string | undefined;
  digest?: string | undefined;
}): SignInput {
  if (body.message !== undefined && body.digest !== undefined)
    throw invalid('digest', 'cannot be sent together with message');
  if (body.message !== undefined) return { message: parseBase64('message', body.message) };
  if (body.digest !== undefined) return { digest: parseHex('digest', body.digest, 32) };
  throw invalid('message', 'is required (or digest)');
}

export async function keyRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (k: Parameters<typeof keyView>[0]) => keyView(k, services.protection);
  const CreateBody = Type.Object(
    {
      name: KeyName,
      algorithm: Type.String({
        description: 'bls12-381, secp256k1, ed25519, p-256, ml-dsa-65, hmac-sha256 or aes-256-gcm',
      }),
      purpose: Type.String({
        description:
          'validator, bridge (bls12-381), signing, encryption (aes-256-gcm), derivation, ' +
          'experience-master, replicate-master (hmac-sha256)',
      }),
      chains: Type.Optional(
        Type.Array(U64, { maxItems: 64, description: 'validator, bridge: allowed chain ids' }),
      ),
      jwks: Type.Optional(Type.Boolean({ description: 'publish the public key' })),
      residency: Type.Optional(
        Type.String({ description: 'wrapped (default) or provider (non-exportable)' }),
      ),
      provider: Type.Optional(Type.String({ description: 'with residency provider: which one' })),
    },
    {
      additionalProperties: false,
      examples: [{ name: 'payments-signer', algorithm: 'secp256k1', purpose: 'signing' }],
    },
  );
  const spec = (b: {
    name: string;
    algorithm: string;
    purpose: string;
    chains?: (string | number)[] | undefined;
    jwks?: boolean | undefined;
    residency?: string | undefined;
    provider?: string | undefined;
  }) => ({
    ...b,
    chains: b.chains?.map((c, i) => parseU64(`chains[${i}]`, c)),
  });

  r.post(
    '/v1/keys',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Create a key',
        description: 'A new key; the response says where it lives (`protection`).',
        tags: ['keys'],
        body: CreateBody,
        response: { 201: KeyView },
      },
    },
    async (req, reply) => {
      const key = await services.keys.create(callerOf(req), spec(req.body));
      return reply.status(201).send(view(key));
    },
  );

  const ImportBody = Type.Object(
    {
      ...CreateBody.properties,
      privateKey: Type.String({
        maxLength: 200,
        description: 'hex: the 32-byte scalar or seed (API.md "Private keys")',
      }),
    },
    { additionalProperties: false },
  );
  r.post(
    '/v1/keys/import',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Import a key',
        description: 'The public key is derived by the server.',
        tags: ['keys'],
        body: ImportBody,
        response: { 201: KeyView },
      },
    },
    async (req, reply) => {
      const { privateKey, ...rest } = req.body;
      const key = await services.keys.import(
        callerOf(req),
        spec(rest),
        parseHex('privateKey', privateKey),
      );
      return reply.status(201).send(view(key));
    },
  );

  const listSchema = {
    summary: "List the caller's keys",
    description: 'Every role: the keys in its scopes (none for experience and replicate).',
    tags: ['keys'],
    response: { 200: KeyList },
  };
  r.get('/v1/keys', { config: { roles: 'any' }, schema: listSchema }, async (req) => {
    const caller = callerOf(req);
    const names = await services.keyNames();
    const visible =
      caller.principal.role === 'experience' || caller.principal.role === 'replicate'
        ? []
        : names.filter((n) => keyInScope(caller.principal, n));
    const keys = await Promise.all(visible.map((n) => services.keyring.get(n)));
    return { keys: keys.filter((k) => k !== undefined).map(view) };
  });

  r.get(
    '/v1/keys/:name',
    {
      config: { roles: 'any' },
      schema: {
        summary: 'Read a key',
        description: 'Any role, for a key in its scopes (403 outside them, existing or not).',
        tags: ['keys'],
        params: NameParams,
        response: { 200: KeyView },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      if (
        caller.principal.role === 'experience' ||
        caller.principal.role === 'replicate' ||
        !keyInScope(caller.principal, req.params.name)
      ) {
        throw new KmsError('FORBIDDEN', `key ${req.params.name} is outside the caller's scopes`);
      }
      return view(await services.keys.require(req.params.name));
    },
  );

  r.post(
    '/v1/keys/:name/rotate',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Rotate',
        description:
          'A new active version; the previous one becomes decrypt-only (verify-only). ' +
          'Validator and bridge keys do not rotate (422 WRONG_PURPOSE).',
        tags: ['keys'],
        params: NameParams,
        response: { 200: KeyView },
      },
    },
    async (req) => view(await services.keys.rotate(callerOf(req), req.params.name)),
  );

  const PatchBody = Type.Object(
    {
      enabled: Type.Optional(Type.Boolean()),
      minDecryptionVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  );
  r.patch(
    '/v1/keys/:name',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Enable, disable, retire versions',
        description:
          'A disabled key refuses every operation (409 KEY_DISABLED); versions below ' +
          'minDecryptionVersion refuse decryption (409 KEY_VERSION_RETIRED).',
        tags: ['keys'],
        params: NameParams,
        body: PatchBody,
        response: { 200: KeyView },
      },
    },
    async (req) => view(await services.keys.patch(callerOf(req), req.params.name, req.body)),
  );

  r.delete(
    '/v1/keys/:name',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Destroy every version',
        description:
          'Crypto-shredding: later use answers 410 KEY_DESTROYED. Validator watermarks stay.',
        tags: ['keys'],
        params: NameParams,
        response: { 200: KeyView },
      },
    },
    async (req) => view(await services.keys.destroy(callerOf(req), req.params.name)),
  );

  const VersionParams = Type.Object(
    { name: KeyName, version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) },
    { additionalProperties: false },
  );
  r.delete(
    '/v1/keys/:name/versions/:version',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Destroy one version',
        tags: ['keys'],
        params: VersionParams,
        response: { 200: KeyView },
      },
    },
    async (req) =>
      view(await services.keys.destroy(callerOf(req), req.params.name, Number(req.params.version))),
  );

  const SignBody = Type.Object(
    {
      message: Type.Optional(Type.String({ description: 'base64 message' })),
      digest: Type.Optional(Type.String({ description: 'hex SHA-256 digest (32 bytes)' })),
      format: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('recoverable')])),
      context: Type.Optional(Type.String({ description: 'ml-dsa-65: hex context, <= 255 bytes' })),
    },
    { additionalProperties: false, examples: [{ message: 'aGVsbG8=' }] },
  );
  r.post(
    '/v1/keys/:name/sign',
    {
      config: { roles: ['signing'] },
      schema: {
        summary: 'Sign',
        description:
          'ECDSA over SHA-256 as r||s, always low-S (`format: recoverable` appends the recovery ' +
          'id on secp256k1); Ed25519 and ML-DSA-65 over `message`; hmac-sha256 answers `mac`. ' +
          'Validator and bridge keys: 422 WRONG_PURPOSE.',
        tags: ['keys'],
        params: NameParams,
        body: SignBody,
        response: { 200: SignResult },
      },
    },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.sign');
      const b = req.body;
      const context = b.context === undefined ? undefined : parseHex('context', b.context);
      if (context && context.length > 255) throw invalid('context', 'must be at most 255 bytes');
      const out = await services.signing.sign(callerOf(req), req.params.name, {
        input: signInput(b),
        recoverable: b.format === 'recoverable',
        context,
      });
      return {
        ...(out.signature ? { signature: hex(out.signature) } : {}),
        ...(out.mac ? { mac: hex(out.mac) } : {}),
        keyVersion: out.keyVersion,
      };
    },
  );

  const VerifyBody = Type.Object(
    {
      ...SignBody.properties,
      signature: Type.Optional(Type.String({ description: 'hex' })),
      mac: Type.Optional(Type.String({ description: 'hex, for hmac-sha256 keys' })),
      keyVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'default: active' })),
    },
    { additionalProperties: false },
  );
  r.post(
    '/v1/keys/:name/verify',
    {
      config: { roles: ['signing'] },
      schema: {
        summary: 'Verify with a stored key',
        tags: ['keys'],
        params: NameParams,
        body: VerifyBody,
        response: { 200: Validity },
      },
    },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.verify');
      const b = req.body;
      const valid = await services.signing.verify(callerOf(req), req.params.name, {
        input: signInput(b),
        ...(b.signature !== undefined ? { signature: parseHex('signature', b.signature) } : {}),
        ...(b.mac !== undefined ? { mac: parseHex('mac', b.mac) } : {}),
        ...(b.keyVersion !== undefined ? { keyVersion: b.keyVersion } : {}),
        ...(b.context !== undefined ? { context: parseHex('context', b.context) } : {}),
      });
      return { valid };
    },
  );
}
