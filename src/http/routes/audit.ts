/** API.md "Audit and providers" (admin). */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import { AuditEvents, AuditVerify, CheckpointKey, Providers } from '../openapi-audit-schemas.js';

const tags = ['audit'];

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
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Audit events, paged',
        description: 'Oldest first; pass `next` as `after` for the next page (limit 1 to 1000).',
        tags,
        querystring: Query,
        response: { 200: AuditEvents },
      },
    },
    async (req) =>
      services.auditQuery.events({
        ...req.query,
        limit: req.query.limit === undefined ? undefined : Number(req.query.limit),
      }),
  );
  const verifySchema = {
    summary: 'Verify every audit chain',
    description:
      'Recomputes every chain and checks the signed checkpoints; `ok: false` names the first ' +
      'broken event.',
    tags,
    response: { 200: AuditVerify },
  };
  r.get('/v1/audit/verify', { config: { roles: ['admin'] }, schema: verifySchema }, async () =>
    services.auditQuery.verify(),
  );
  const keySchema = {
    summary: 'The checkpoint public key',
    description: 'The Ed25519 key that signs audit checkpoints, every version.',
    tags,
    response: { 200: CheckpointKey },
  };
  r.get('/v1/audit/checkpoint-key', { config: { roles: ['admin'] }, schema: keySchema }, async () =>
    services.auditQuery.checkpointKey(),
  );
  const providersSchema = {
    summary: 'Key providers and their health',
    description: 'In priority order, with the result of the last canary.',
    tags,
    response: { 200: Providers },
  };
  r.get('/v1/providers', { config: { roles: ['admin'] }, schema: providersSchema }, async () =>
    services.providers.status(),
  );
}
