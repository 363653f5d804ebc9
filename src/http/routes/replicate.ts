/**
 * API.md "Replicate" (role `replicate`, scope `{ecosystem}/{env}/{service}`; rotate is admin).
 * Path segments are plain strings here: their rules (ecosystem list from config, [a-z0-9-]{1,63})
 * are checked by the service, so a malformed target is refused and audited like any other refusal.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import type { RouteModule } from '../server.js';
import { ReplicateService } from '../../services/replicate.js';
import { callerOf } from '../auth.js';
import { KmsError, type ErrorCode } from '../../errors.js';

const Segment = (description: string) => Type.String({ maxLength: 256, description });
const EnvParams = Type.Object(
  {
    ecosystem: Segment('hanzo, lux or zoo (and listed in replicate.ecosystems)'),
    env: Segment('[a-z0-9-]{1,63}'),
  },
  { additionalProperties: false },
);
const TargetParams = Type.Object(
  { ...EnvParams.properties, service: Segment('[a-z0-9-]{1,63}') },
  { additionalProperties: false },
);

const RecipientsReply = Type.Object({
  keyVersion: Type.Integer(),
  recipients: Type.Object({
    mlkem768x25519: Type.String({ description: 'age1pq1...' }),
    x25519: Type.String({ description: 'age1...' }),
  }),
  s3Prefix: Type.String({ description: 's3://{ecosystem}-replicate-{env}/{service}/' }),
});
const IdentityBody = Type.Object(
  {
    wrapTo: Type.String({
      maxLength: 4096,
      description: 'an ephemeral age recipient (age1pq1... or age1...) made by the caller',
    }),
    kind: Type.Optional(
      Type.String({ maxLength: 32, description: 'mlkem768x25519 (default) or x25519' }),
    ),
    keyVersion: Type.Optional(
      Type.Integer({ minimum: 1, description: 'the master version; default the active one' }),
    ),
  },
  { additionalProperties: false },
);
const IdentityReply = Type.Object({
  keyVersion: Type.Integer(),
  kind: Type.String(),
  identity: Type.String({
    description:
      'ASCII-armored age file encrypted to wrapTo; its plaintext is the age identity string',
  }),
});

const EARLY_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_REQUEST',
  403: 'FORBIDDEN',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export function replicateRoutes(services: Services): RouteModule {
  const replicate = new ReplicateService(services.deps, services.keys);
  // A refusal decided before the service ran (role, schema, rate limit) is audited here, so every
  // call makes one event (the server's shared hook covers only routes that name a key).
  const early = (action: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.earlyRefusal || !req.principal || reply.statusCode < 400) return;
    const error = new KmsError(EARLY_CODES[reply.statusCode] ?? 'INVALID_REQUEST');
    await replicate
      .auditEarlyRefusal(
        callerOf(req),
        action,
        req.params as { ecosystem: string; env: string },
        error,
      )
      .catch((e: unknown) => req.log.error({ err: e }, 'audit of a refusal failed'));
  };
  return async (app: FastifyInstance) => {
    app.addHook('onClose', () => replicate.close());
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    r.get(
      '/v1/replicate/:ecosystem/:env/:service/recipients',
      {
        config: { roles: ['replicate'] },
        onResponse: early('replicate.recipients'),
        schema: { params: TargetParams, response: { 200: RecipientsReply } },
      },
      async (req) => replicate.recipients(callerOf(req), req.params),
    );
    r.post(
      '/v1/replicate/:ecosystem/:env/:service/identity',
      {
        config: { roles: ['replicate'] },
        onResponse: early('replicate.identity'),
        schema: { params: TargetParams, body: IdentityBody, response: { 200: IdentityReply } },
      },
      async (req) => replicate.identity(callerOf(req), req.params, req.body),
    );
    r.post(
      '/v1/replicate/:ecosystem/:env/rotate',
      {
        config: { roles: ['admin'] },
        onResponse: early('replicate.rotate'),
        schema: {
          params: EnvParams,
          response: { 200: Type.Object({ keyVersion: Type.Integer() }) },
        },
      },
      async (req) => replicate.rotate(callerOf(req), req.params),
    );
  };
}
