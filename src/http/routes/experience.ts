/**
 * API.md "Experience library" (role `experience`; its tokens need no scopes). The schemas check
 * JSON types only: the service checks the values (user id, context, size limit), so a bad value
 * is a 400 naming the field, an audit event, and in a batch a per-item error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../app.js';
import type { ExperienceService } from '../../services/experience/service.js';
import { MASTER } from '../../services/experience/master.js';
import type { RouteModule } from '../server.js';
import { callerOf } from '../auth.js';

const UserId = Type.String({ description: '1 to 256 printable characters, e.g. did:lux:122:...' });
const Context = Type.Optional(
  Type.String({ description: 'up to 256 characters, bound as associated data' }),
);
const Ciphertext = Type.String({
  description: 'zoo-exp:1:{keyVersion}:{generation}:{base64} (docs/experience.md)',
});
const EncryptItem = Type.Object(
  {
    userId: UserId,
    plaintext: Type.String({ description: 'base64, up to experience_library.max_plaintext bytes' }),
    context: Context,
  },
  { additionalProperties: false },
);
const DecryptItem = Type.Object(
  { userId: UserId, ciphertext: Ciphertext, context: Context },
  { additionalProperties: false },
);
const batchOf = <T extends Type.TSchema>(item: T) =>
  Type.Object(
    { items: Type.Array(item, { minItems: 1, maxItems: 1000 }) },
    { additionalProperties: false },
  );
const UserParams = Type.Object({ userId: Type.String() }, { additionalProperties: false });
const Encrypted = Type.Object({
  ciphertext: Ciphertext,
  keyVersion: Type.Integer({ description: 'the experience-master version that encrypted' }),
});
const Decrypted = Type.Object({ plaintext: Type.String({ description: 'base64' }) });
const ItemError = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
const itemsOf = <T extends Type.TSchema>(result: T) =>
  Type.Object({ items: Type.Array(Type.Union([result, ItemError])) });
const Destroyed = Type.Object({ destroyed: Type.Literal(true) });
const Rotated = Type.Object({ keyVersion: Type.Integer() });

export function experienceRoutes(service: ExperienceService): RouteModule {
  return async (app: FastifyInstance, services: Services) => {
    service.start((e) =>
      app.log.error({ err: e }, 'automatic rotation of experience-master failed'),
    );
    app.addHook('onClose', () => service.close());
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    // A refusal decided before the service ran (role, schema) is audited here, against the master
    // (the shared hook only covers routes that name a key).
    // Callback-style: nothing to wait for on almost every request (an async hook costs a promise).
    const onResponse = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (!req.earlyRefusal || !req.principal || reply.statusCode < 400) return done();
      void services
        .auditEarlyRefusal(req, MASTER, reply.statusCode)
        .catch((e: unknown) => req.log.error({ err: e }, 'audit of a refusal failed'))
        .then(done, done);
    };
    const config = { roles: ['experience' as const] };

    r.post(
      '/v1/experience/encrypt',
      { config, onResponse, schema: { body: EncryptItem, response: { 200: Encrypted } } },
      async (req) => service.encrypt(callerOf(req), req.body),
    );
    r.post(
      '/v1/experience/decrypt',
      { config, onResponse, schema: { body: DecryptItem, response: { 200: Decrypted } } },
      async (req) => service.decrypt(callerOf(req), req.body),
    );
    r.post(
      '/v1/experience/rewrap',
      { config, onResponse, schema: { body: DecryptItem, response: { 200: Encrypted } } },
      async (req) => service.rewrap(callerOf(req), req.body),
    );
    // find-my-way reads ':' as a parameter: '::' is a literal colon.
    r.post(
      '/v1/experience/encrypt::batch',
      {
        config,
        onResponse,
        schema: { body: batchOf(EncryptItem), response: { 200: itemsOf(Encrypted) } },
      },
      async (req) => ({ items: await service.encryptBatch(callerOf(req), req.body.items) }),
    );
    r.post(
      '/v1/experience/decrypt::batch',
      {
        config,
        onResponse,
        schema: { body: batchOf(DecryptItem), response: { 200: itemsOf(Decrypted) } },
      },
      async (req) => ({ items: await service.decryptBatch(callerOf(req), req.body.items) }),
    );
    r.delete(
      '/v1/experience/users/:userId',
      { config, onResponse, schema: { params: UserParams, response: { 200: Destroyed } } },
      async (req) => {
        await service.deleteUser(callerOf(req), req.params.userId);
        return { destroyed: true as const };
      },
    );
    r.post(
      '/v1/experience/rotate',
      { config: { roles: ['admin'] }, onResponse, schema: { response: { 200: Rotated } } },
      async (req) => ({ keyVersion: await service.rotate(callerOf(req)) }),
    );
  };
}
