/**
 * API.md "Encryption, data keys, derived keys" (role `encryption`, scoped keys; admin too).
 * docs/envelope.md documents the ciphertext format, the context rule and the derivation info.
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { toBase64 } from '../../crypto/encoding.js';
import { HKDF_SHA256_MAX_LENGTH } from '../../crypto/hkdf.js';
import { DATAKEY_BYTES, EnvelopeService, MAX_INFO_BYTES } from '../../services/envelope.js';
import { CONTEXT_LIMITS } from '../../services/envelope-format.js';
import type { Services } from '../../app.js';
import type { RouteModule } from '../server.js';
import { callerOf } from '../auth.js';
import { KeyName } from '../schemas.js';
import { authorizeKey } from './keys.js';

const NameParams = Type.Object({ name: KeyName }, { additionalProperties: false });
const Context = Type.Record(Type.String(), Type.String({ maxLength: CONTEXT_LIMITS.valueChars }), {
  maxProperties: CONTEXT_LIMITS.entries,
  description: 'encryption context: string values, bound as associated data after sorting the keys',
});
const Ciphertext = Type.String({
  description: 'an envelope ciphertext (base64, docs/envelope.md)',
});

const KeyVersion = Type.Integer({ minimum: 1, description: 'the key version used' });
const Base64 = (description: string) => Type.String({ description });
const Sealed = Type.Object({ ciphertext: Ciphertext, keyVersion: KeyVersion });
const Opened = Type.Object({ plaintext: Base64('the plaintext, base64') });
const DataKey = Type.Object({
  ciphertext: Ciphertext,
  keyVersion: KeyVersion,
  plaintext: Type.Optional(Base64('the data key, base64; absent with plaintext: false')),
});
const Derived = Type.Object({
  key: Type.Optional(Base64('the derived key, base64 (without wrapTo)')),
  wrapped: Type.Optional(
    Type.String({ description: 'with wrapTo: an ASCII-armored age file of the raw key bytes' }),
  ),
  keyVersion: KeyVersion,
});

const EncryptBody = Type.Object(
  {
    plaintext: Type.String({ description: 'base64, up to 1 MiB decoded' }),
    context: Type.Optional(Context),
  },
  { additionalProperties: false },
);
const DecryptBody = Type.Object(
  { ciphertext: Ciphertext, context: Type.Optional(Context) },
  { additionalProperties: false },
);
const DatakeyBody = Type.Object(
  {
    bytes: Type.Optional(
      Type.Integer({
        minimum: DATAKEY_BYTES.min,
        maximum: DATAKEY_BYTES.max,
        default: DATAKEY_BYTES.default,
      }),
    ),
    context: Type.Optional(Context),
    plaintext: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
const DeriveBody = Type.Object(
  {
    info: Type.String({
      maxLength: MAX_INFO_BYTES,
      description: 'UTF-8; HKDF info is utf8(principal) || 0x00 || utf8(info)',
    }),
    length: Type.Optional(
      Type.Integer({ minimum: 1, maximum: HKDF_SHA256_MAX_LENGTH, default: 32 }),
    ),
    wrapTo: Type.Optional(
      Type.String({ maxLength: 4096, description: 'an age recipient: age1... or age1pq1...' }),
    ),
    principal: Type.Optional(
      Type.String({ maxLength: 128, description: 'admin only: derive for another principal' }),
    ),
    keyVersion: Type.Optional(
      Type.Integer({ minimum: 1, description: 'default: the active version' }),
    ),
  },
  { additionalProperties: false },
);

/** The route module; its service is built on the shared foundation. */
export const envelopeRoutes: RouteModule = async (app: FastifyInstance, services: Services) => {
  const envelope = new EnvelopeService(services.deps, services.keys);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const roles = { roles: ['encryption'] as const };

  r.post(
    '/v1/keys/:name/encrypt',
    { config: roles, schema: { params: NameParams, body: EncryptBody, response: { 200: Sealed } } },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.encrypt');
      return envelope.encrypt(callerOf(req), req.params.name, req.body.plaintext, req.body.context);
    },
  );

  r.post(
    '/v1/keys/:name/decrypt',
    { config: roles, schema: { params: NameParams, body: DecryptBody, response: { 200: Opened } } },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.decrypt');
      const { plaintext } = await envelope.decrypt(
        callerOf(req),
        req.params.name,
        req.body.ciphertext,
        req.body.context,
      );
      return { plaintext: encodeAndWipe(plaintext) };
    },
  );

  r.post(
    '/v1/keys/:name/rewrap',
    { config: roles, schema: { params: NameParams, body: DecryptBody, response: { 200: Sealed } } },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.rewrap');
      return envelope.rewrap(callerOf(req), req.params.name, req.body.ciphertext, req.body.context);
    },
  );

  r.post(
    '/v1/keys/:name/datakey',
    {
      config: roles,
      schema: { params: NameParams, body: DatakeyBody, response: { 200: DataKey } },
    },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.datakey');
      const out = await envelope.datakey(callerOf(req), req.params.name, req.body);
      return {
        ciphertext: out.ciphertext,
        keyVersion: out.keyVersion,
        ...(out.plaintext ? { plaintext: encodeAndWipe(out.plaintext) } : {}),
      };
    },
  );

  r.post(
    '/v1/keys/:name/derive',
    { config: roles, schema: { params: NameParams, body: DeriveBody, response: { 200: Derived } } },
    async (req) => {
      await authorizeKey(services, req, req.params.name, 'key.derive');
      const out = await envelope.derive(callerOf(req), req.params.name, req.body);
      return {
        ...(out.key ? { key: encodeAndWipe(out.key) } : { wrapped: out.wrapped }),
        keyVersion: out.keyVersion,
      };
    },
  );
};

/** Base64 for the response; the bytes are wiped (the string cannot be). */
function encodeAndWipe(bytes: Uint8Array): string {
  const text = toBase64(bytes);
  bytes.fill(0);
  return text;
}
