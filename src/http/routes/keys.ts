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
      algorithm: Type.String(),
      purpose: Type.String(),
      chains: Type.Optional(Type.Array(U64, { maxItems: 64 })),
      jwks: Type.Optional(Type.Boolean()),
      residency: Type.Optional(Type.String()),
      provider: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
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
    { config: { roles: ['admin'] }, schema: { body: CreateBody } },
    async (req, reply) => {
      const key = await services.keys.create(callerOf(req), spec(req.body));
      return reply.status(201).send(view(key));
    },
  );

  const ImportBody = Type.Object(
    { ...CreateBody.properties, privateKey: Type.String({ maxLength: 200 }) },
    { additionalProperties: false },
  );
  r.post(
    '/v1/keys/import',
    { config: { roles: ['admin'] }, schema: { body: ImportBody } },
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

  r.get('/v1/keys', { config: { roles: 'any' } }, async (req) => {
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
    { config: { roles: 'any' }, schema: { params: NameParams } },
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
    { config: { roles: ['admin'] }, schema: { params: NameParams } },
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
    { config: { roles: ['admin'] }, schema: { params: NameParams, body: PatchBody } },
    async (req) => view(await services.keys.patch(callerOf(req), req.params.name, req.body)),
  );

  r.delete(
    '/v1/keys/:name',
    { config: { roles: ['admin'] }, schema: { params: NameParams } },
    async (req) => view(await services.keys.destroy(callerOf(req), req.params.name)),
  );

  const VersionParams = Type.Object(
    { name: KeyName, version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) },
    { additionalProperties: false },
  );
  r.delete(
    '/v1/keys/:name/versions/:version',
    { config: { roles: ['admin'] }, schema: { params: VersionParams } },
    async (req) =>
      view(await services.keys.destroy(callerOf(req), req.params.name, Number(req.params.version))),
  );

  const SignBody = Type.Object(
    {
      message: Type.Optional(Type.String()),
      digest: Type.Optional(Type.String()),
      format: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('recoverable')])),
      context: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );
  r.post(
    '/v1/keys/:name/sign',
    { config: { roles: ['signing'] }, schema: { params: NameParams, body: SignBody } },
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
      signature: Type.Optional(Type.String()),
      mac: Type.Optional(Type.String()),
      keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  );
  r.post(
    '/v1/keys/:name/verify',
    { config: { roles: ['signing'] }, schema: { params: NameParams, body: VerifyBody } },
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
