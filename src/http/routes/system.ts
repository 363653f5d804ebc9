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
import { Health, Jwks, MetricsText, Readiness, Validity } from '../openapi-schemas.js';

const tags = ['system'];

export async function systemRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const healthSchema = { summary: 'Liveness', tags, response: { 200: Health } };
  r.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' as const }));

  const readySchema = {
    summary: 'Readiness',
    description: 'Ready when the store and at least one provider pass a canary.',
    tags,
    response: { 200: Readiness, 503: { ...Readiness, description: 'not ready' } },
  };
  r.get('/readyz', { schema: readySchema }, async (_req, reply) => {
    const result = await services.ready();
    return reply.status(result.status === 'ready' ? 200 : 503).send(result);
  });

  const metricsSchema = {
    summary: 'Prometheus metrics',
    description:
      'Requests and latency by route template, refusals by code, provider health and latency, ' +
      'audit chain length, key counts. No secrets and no per-user labels.',
    tags,
    response: { 200: MetricsText },
  };
  r.get('/metrics', { schema: metricsSchema }, async (_req, reply) => {
    return reply.type(services.metrics.contentType).send(await services.metrics.render());
  });

  const jwksSchema = {
    summary: 'Published public keys',
    description:
      'Keys created with `jwks: true`: ed25519 as OKP, p-256 and secp256k1 as EC, ml-dsa-65 as ' +
      'AKP; `kid` is `{name}:{version}`.',
    tags,
    response: { 200: Jwks },
  };
  r.get('/.well-known/jwks.json', { schema: jwksSchema }, async () => ({
    keys: (await services.jwks()) as never[],
  }));

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
  const verifySchema = {
    summary: 'Verify with any public key',
    description:
      'Stateless. ECDSA is plain (high-S accepted) unless `lowS: true`; bls12-381 needs `dst`, ' +
      'and `publicKeys` means fast aggregate verification of one message. A malformed key or ' +
      'signature answers 200 `{valid: false}`; a malformed request is 400.',
    tags: ['keys'],
    body: VerifyBody,
    response: { 200: Validity },
  };
  r.post('/v1/verify', { config: { roles: 'any' }, schema: verifySchema }, async (req) => {
    const b = req.body;
    if ((b.publicKey === undefined) === (b.publicKeys === undefined))
      throw invalid('publicKey', 'send exactly one of publicKey or publicKeys');
    const publicKeys = b.publicKeys
      ? b.publicKeys.map((k, i) => parseHex(`publicKeys[${i}]`, k))
      : [parseHex('publicKey', b.publicKey)];
    const valid = await services.signing.verifyStateless({
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
