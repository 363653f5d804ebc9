/** API.md "Principals and tokens" (admin). */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import { ROLES } from '../../services/auth.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
const Scopes = Type.Array(Type.String({ maxLength: 200 }), { maxItems: 256 });
const Fingerprints = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 });
const admin = { roles: ['admin'] as const };

export async function principalRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const NameParams = Type.Object({ name: Name }, { additionalProperties: false });

  const CreateBody = Type.Object(
    {
      name: Name,
      role: Type.Union(ROLES.map((x) => Type.Literal(x))),
      scopes: Type.Optional(Scopes),
      certificateFingerprints: Type.Optional(Fingerprints),
    },
    { additionalProperties: false },
  );
  r.post('/v1/principals', { config: admin, schema: { body: CreateBody } }, async (req, reply) => {
    const p = await services.auth.createPrincipal({
      name: req.body.name,
      role: req.body.role,
      scopes: req.body.scopes ?? [],
      certificateFingerprints: req.body.certificateFingerprints ?? [],
    });
    await services.auditAdmin(req, 'principal.create', { principal: p.name, role: p.role });
    return reply.status(201).send(p);
  });

  r.get('/v1/principals', { config: admin }, async () => ({
    principals: await services.auth.listPrincipals(),
  }));

  const PatchBody = Type.Object(
    { scopes: Type.Optional(Scopes), certificateFingerprints: Type.Optional(Fingerprints) },
    { additionalProperties: false },
  );
  r.patch(
    '/v1/principals/:name',
    { config: admin, schema: { params: NameParams, body: PatchBody } },
    async (req) => {
      const p = await services.auth.updatePrincipal(req.params.name, req.body);
      await services.auditAdmin(req, 'principal.update', { principal: p.name });
      return p;
    },
  );

  r.delete(
    '/v1/principals/:name',
    { config: admin, schema: { params: NameParams } },
    async (req, reply) => {
      await services.auth.deletePrincipal(req.params.name);
      await services.auditAdmin(req, 'principal.delete', { principal: req.params.name });
      return reply.status(204).send();
    },
  );

  const TokenBody = Type.Object(
    { ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000 })) },
    { additionalProperties: false },
  );
  r.post(
    '/v1/principals/:name/tokens',
    { config: admin, schema: { params: NameParams, body: Type.Optional(TokenBody) } },
    async (req, reply) => {
      const t = await services.auth.createToken(req.params.name, req.body?.ttlSeconds);
      await services.auditAdmin(req, 'token.create', {
        principal: req.params.name,
        tokenId: t.tokenId,
      });
      return reply.status(201).send(t);
    },
  );

  r.get(
    '/v1/principals/:name/tokens',
    { config: admin, schema: { params: NameParams } },
    async (req) => ({
      tokens: await services.auth.listTokens(req.params.name),
    }),
  );

  const TokenParams = Type.Object(
    { tokenId: Type.String({ pattern: '^tok_[0-9a-f]{24}$' }) },
    { additionalProperties: false },
  );
  r.delete(
    '/v1/tokens/:tokenId',
    { config: admin, schema: { params: TokenParams } },
    async (req, reply) => {
      await services.auth.revokeToken(req.params.tokenId);
      await services.auditAdmin(req, 'token.revoke', { tokenId: req.params.tokenId });
      return reply.status(204).send();
    },
  );
}
