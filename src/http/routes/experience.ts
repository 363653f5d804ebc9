/**
 * API.md "Experience library" (role `experience`; its tokens need no scopes). The schemas check
 * JSON types only: the service checks the values (user id, context, size limit), so a bad value
 * is a 400 naming the field, an audit event, and in a batch a per-item error.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ExperienceService } from '../../services/experience/service.js';
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
const experience = { roles: ['experience' as const] };

export function experienceRoutes(service: ExperienceService): RouteModule {
  return async (app: FastifyInstance) => {
    service.start((e) =>
      app.log.error({ err: e }, 'automatic rotation of experience-master failed'),
    );
    app.addHook('onClose', () => service.close());
    const r = app.withTypeProvider<TypeBoxTypeProvider>();

    r.post(
      '/v1/experience/encrypt',
      { config: experience, schema: { body: EncryptItem } },
      async (req) => service.encrypt(callerOf(req), req.body),
    );
    r.post(
      '/v1/experience/decrypt',
      { config: experience, schema: { body: DecryptItem } },
      async (req) => service.decrypt(callerOf(req), req.body),
    );
    r.post(
      '/v1/experience/rewrap',
      { config: experience, schema: { body: DecryptItem } },
      async (req) => service.rewrap(callerOf(req), req.body),
    );

    // find-my-way reads ':' as a parameter: '::' is a literal colon.
    r.post(
      '/v1/experience/encrypt::batch',
      { config: experience, schema: { body: batchOf(EncryptItem) } },
      async (req) => ({
        items: await service.encryptBatch(callerOf(req), req.body.items),
      }),
    );
    r.post(
      '/v1/experience/decrypt::batch',
      { config: experience, schema: { body: batchOf(DecryptItem) } },
      async (req) => ({
        items: await service.decryptBatch(callerOf(req), req.body.items),
      }),
    );

    r.delete(
      '/v1/experience/users/:userId',
      { config: experience, schema: { params: UserParams } },
      async (req) => {
        await service.deleteUser(callerOf(req), req.params.userId);
        return { destroyed: true };
      },
    );

    r.post('/v1/experience/rotate', { config: { roles: ['admin'] } }, async (req) => ({
      keyVersion: await service.rotate(callerOf(req)),
    }));
  };
}
