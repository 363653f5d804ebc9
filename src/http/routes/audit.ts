/** API.md "Audit and providers" (admin). */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';

export async function auditRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const Query = Type.Object(
    {
      after: Type.Optional(Type.String({ maxLength: 200 })),
      limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
      key: Type.Optional(Type.String({ maxLength: 128 })),
      principal: Type.Optional(Type.String({ maxLength: 128 })),
      action: Type.Optional(Type.String({ maxLength: 64 })),
    },
    { additionalProperties: false },
  );
  r.get(
    '/v1/audit/events',
    { config: { roles: ['admin'] }, schema: { querystring: Query } },
    async (req) =>
      services.auditQuery.events({
        ...req.query,
        limit: req.query.limit === undefined ? undefined : Number(req.query.limit),
      }),
  );
  r.get('/v1/audit/verify', { config: { roles: ['admin'] } }, async () =>
    services.auditQuery.verify(),
  );
  r.get('/v1/audit/checkpoint-key', { config: { roles: ['admin'] } }, async () =>
    services.auditQuery.checkpointKey(),
  );
  r.get('/v1/providers', { config: { roles: ['admin'] } }, async () => services.providers.status());
}
