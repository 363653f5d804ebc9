/** API.md "Bridge": signing (role `bridge`, scoped keys) and the stateless verify (any valid token). */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { invalid } from '../../errors.js';
import { parseHex, toHex } from '../../crypto/encoding.js';
import type { Services } from '../../app.js';
import { BRIDGE_SIGN, type BridgeService } from '../../services/bridge.js';
import type { RouteModule } from '../server.js';
import { callerOf } from '../auth.js';
import { KeyName } from '../schemas.js';
import { authorizeKey } from './keys.js';

// The schema checks JSON types only: the values are parsed by the service (parseU64, parseHex and
// the configured payload limit), so a bad value is a 400 naming the field AND an audit event.
const U64In = Type.Union([Type.String({ maxLength: 64 }), Type.Number()], {
  description: 'decimal string, or a JSON integer up to 2^53-1',
});
const MessageFields = {
  sourceChainId: U64In,
  targetChainId: U64In,
  nonce: U64In,
  timestamp: Type.Union([Type.String({ maxLength: 64 }), Type.Number()], {
    description: 'Unix seconds: decimal string, or a JSON integer',
  }),
  payload: Type.String({
    description: '0x-prefixed lowercase hex, up to bridge.max_payload bytes',
  }),
};
const SignBody = Type.Object(MessageFields, { additionalProperties: false });
const VerifyBody = Type.Object(
  {
    ...MessageFields,
    publicKey: Type.Optional(Type.String({ maxLength: 200 })),
    publicKeys: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10_000 })),
    signature: Type.String({ maxLength: 400 }),
  },
  { additionalProperties: false },
);
const KeyParams = Type.Object({ key: KeyName }, { additionalProperties: false });

export function bridgeRoutes(bridge: BridgeService): RouteModule {
  return async (app: FastifyInstance, services: Services) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();

    r.post(
      '/v1/bridge/:key/signatures',
      { config: { roles: ['bridge'] }, schema: { params: KeyParams, body: SignBody } },
      async (req) => {
        await authorizeKey(services, req, req.params.key, BRIDGE_SIGN);
        const out = await bridge.sign(callerOf(req), req.params.key, req.body);
        return {
          signature: toHex(out.signature),
          messageHash: toHex(out.messageHash),
          publicKey: toHex(out.publicKey),
        };
      },
    );

    r.post(
      '/v1/bridge/verify',
      { config: { roles: 'any' }, schema: { body: VerifyBody } },
      async (req) => {
        const { publicKey, publicKeys, signature, ...message } = req.body;
        if ((publicKey === undefined) === (publicKeys === undefined))
          throw invalid('publicKey', 'send exactly one of publicKey or publicKeys');
        const keys = publicKeys
          ? publicKeys.map((k, i) => parseHex(`publicKeys[${i}]`, k))
          : [parseHex('publicKey', publicKey)];
        return {
          valid: await bridge.verify({
            ...message,
            publicKeys: keys,
            signature: parseHex('signature', signature),
          }),
        };
      },
    );
  };
}
