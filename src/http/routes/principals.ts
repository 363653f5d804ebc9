/** API.md "Principals and tokens" (admin). */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import { ROLES } from '../../services/auth.js';
import {
  NewToken,
  NoContent,
  PrincipalList,
  PrincipalView,
  TokenList,
} from '../openapi-schemas.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
const Scopes = Type.Array(Type.String({ maxLength: 200 }), {
  maxItems: 256,
  description: 'key names (a trailing * matches a prefix); replicate: {ecosystem}/{env}/{service}',
});
const Fingerprints = Type.Array(Type.String({ maxLength: 64 }), {
  maxItems: 16,
  description: 'hex SHA-256 of client certificates',
});
const tags = ['principals'];
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
    {
      additionalProperties: false,
      examples: [{ name: 'validator-1', role: 'validator', scopes: ['zoo-validator-1'] }],
    },
  );
  const createSchema = {
    summary: 'Create a principal',
    description: 'Roles: admin, signing, encryption, validator, bridge, experience, replicate.',
    tags,
    body: CreateBody,
    response: { 201: PrincipalView },
  };
  r.post('/v1/principals', { config: admin, schema: createSchema }, async (req, reply) => {
    const p = await services.auth.createPrincipal({
      name: req.body.name,
      role: req.body.role,
      scopes: req.body.scopes ?? [],
      certificateFingerprints: req.body.certificateFingerprints ?? [],
    });
    await services.auditAdmin(req, 'principal.create', { principal: p.name, role: p.role });
    return reply.status(201).send(p);
  });

  const listSchema = { summary: 'List principals', tags, response: { 200: PrincipalList } };
  r.get('/v1/principals', { config: admin, schema: listSchema }, async () => ({
    principals: await services.auth.listPrincipals(),
  }));

  const PatchBody = Type.Object(
    { scopes: Type.Optional(Scopes), certificateFingerprints: Type.Optional(Fingerprints) },
    { additionalProperties: false },
  );
  r.patch(
    '/v1/principals/:name',
    {
      config: admin,
      schema: {
        summary: 'Change scopes or fingerprints',
        tags,
        params: NameParams,
        body: PatchBody,
        response: { 200: PrincipalView },
      },
    },
    async (req) => {
      const p = await services.auth.updatePrincipal(req.params.name, req.body);
      await services.auditAdmin(req, 'principal.update', { principal: p.name });
      return p;
    },
  );

  r.delete(
    '/v1/principals/:name',
    {
      config: admin,
      schema: {
        summary: 'Delete a principal',
        description: 'Revokes its tokens.',
        tags,
        params: NameParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      await services.auth.deletePrincipal(req.params.name);
      await services.auditAdmin(req, 'principal.delete', { principal: req.params.name });
      return reply.status(204).send(null);
    },
  );

  const TokenBody = Type.Object(
    { ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000 })) },
    { additionalProperties: false },
  );
  r.post(
    '/v1/principals/:name/tokens',
    {
      config: admin,
      schema: {
        summary: 'Issue a token',
        description: 'The token is shown once. Default TTL from config (90 days).',
        tags,
        params: NameParams,
        body: Type.Optional(TokenBody),
        response: { 201: NewToken },
      },
    },
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
    {
      config: admin,
      schema: {
        summary: "List a principal's tokens",
        description: 'Ids and expiry, never tokens.',
        tags,
        params: NameParams,
        response: { 200: TokenList },
      },
    },
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
    {
      config: admin,
      schema: {
        summary: 'Revoke a token',
        tags,
        params: TokenParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      await services.auth.revokeToken(req.params.tokenId);
      await services.auditAdmin(req, 'token.revoke', { tokenId: req.params.tokenId });
      return reply.status(204).send(null);
    },
  );
}
