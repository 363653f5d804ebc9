/**
 * Unauthenticated endpoints (health, readiness, metrics, JWKS) and the stateless verify that any
 * valid token may call (API.md "Health, docs, metrics", "Keys").
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalid } from '../../errors.js';
import { parseHex } from '../../crypto/encoding.js';
import type { Services } from '../../app.js';
import { signInput } from './keys.js';

export async function systemRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/healthz', async () => ({ status: 'ok' }));

  r.get('/readyz', async (_req, reply) => {
    const result = await services.ready();
    return reply.status(result.status === 'ready' ? 200 : 503).send(result);
  });

  r.get('/metrics', async (_req, reply) => {
    return reply.type(services.metrics.contentType).send(await services.metrics.render());
  });

  r.get('/.well-known/jwks.json', async () => ({ keys: await services.jwks() }));

  const VerifyBody = Type.Object(
    {
      algorithm: Type.Union(
        ['bls12-381', 'secp256k1', 'p-256', 'ed25519', 'ml-dsa-65'].map((a) => Type.Literal(a)),
      ),
      publicKey: Type.Optional(Type.String({ maxLength: 8192 })),
      publicKeys: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10_000 })),
      message: Type.Optional(Type.String()),
      digest: Type.Optional(Type.String()),
      signature: Type.String({ maxLength: 16_384 }),
      dst: Type.Optional(Type.String({ maxLength: 255 })),
      context: Type.Optional(Type.String({ maxLength: 512 })),
      lowS: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  );
  r.post('/v1/verify', { config: { roles: 'any' }, schema: { body: VerifyBody } }, async (req) => {
    const b = req.body;
    if ((b.publicKey === undefined) === (b.publicKeys === undefined))
      throw invalid('publicKey', 'send exactly one of publicKey or publicKeys');
    const publicKeys = b.publicKeys
      ? b.publicKeys.map((k, i) => parseHex(`publicKeys[${i}]`, k))
      : [parseHex('publicKey', b.publicKey)];
    const valid = services.signing.verifyStateless({
      algorithm: b.algorithm as 'bls12-381',
      publicKeys,
      input: signInput(b),
      signature: parseHex('signature', b.signature),
      dst: b.dst,
      context: b.context === undefined ? undefined : parseHex('context', b.context),
      lowS: b.lowS ?? false,
    });
    return { valid };
  });
}
