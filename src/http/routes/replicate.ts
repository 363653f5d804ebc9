/**
 * API.md "Replicate" (role `replicate`, scope `{ecosystem}/{env}/{service}`; rotate is admin).
 * Path segments are plain strings here: their rules (ecosystem list from config, [a-z0-9-]{1,63})
 * are checked by the service, so a malformed target is refused and audited like any other refusal.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import type { RouteModule } from '../server.js';
import { ReplicateService } from '../../services/replicate.js';
import { callerOf } from '../auth.js';

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

export function replicateRoutes(services: Services): RouteModule {
  const replicate = new ReplicateService(services.deps, services.keys);
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    r.get(
      '/v1/replicate/:ecosystem/:env/:service/recipients',
      {
        config: { roles: ['replicate'] },
        schema: { params: TargetParams, response: { 200: RecipientsReply } },
      },
      async (req) => replicate.recipients(callerOf(req), req.params),
    );
    r.post(
      '/v1/replicate/:ecosystem/:env/:service/identity',
      {
        config: { roles: ['replicate'] },
        schema: { params: TargetParams, body: IdentityBody, response: { 200: IdentityReply } },
      },
      async (req) => replicate.identity(callerOf(req), req.params, req.body),
    );
    r.post(
      '/v1/replicate/:ecosystem/:env/rotate',
      {
        config: { roles: ['admin'] },
        schema: {
          params: EnvParams,
          response: { 200: Type.Object({ keyVersion: Type.Integer() }) },
        },
      },
      async (req) => replicate.rotate(callerOf(req), req.params),
    );
  };
}
