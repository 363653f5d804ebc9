/**
 * API.md "Validators": block signatures, proofs of possession and watermarks (role `validator`,
 * scoped keys), and the slashing-protection interchange (admin).
 */
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { parseHex, parseU32, parseU64, toHex, u64ToString } from '../../crypto/encoding.js';
import type { Services } from '../../app.js';
import { ValidatorService } from '../../services/validator/service.js';
import { SlashingProtection } from '../../services/validator/slashing.js';
import { BLOCK_HASH_BYTES } from '../../services/validator/signing-root.js';
import type { RouteModule } from '../server.js';
import { callerOf } from '../auth.js';
import { KeyName, U64 } from '../schemas.js';
import { authorizeKey } from './keys.js';

const KeyParams = Type.Object({ key: KeyName }, { additionalProperties: false });
const ChainQuery = Type.Object(
  { chainId: Type.String({ pattern: '^[0-9]{1,20}$', description: 'chain id' }) },
  { additionalProperties: false },
);
const Hex = (description: string) => Type.String({ maxLength: 256, description });
const Dec = (description: string) => Type.String({ description });
const NullableHex = (description: string) => Type.Union([Hex(description), Type.Null()]);

const BlockBody = Type.Object(
  {
    chainId: U64,
    height: U64,
    round: U64,
    blockHash: Hex('32 bytes, 0x-prefixed lowercase hex'),
  },
  {
    additionalProperties: false,
    examples: [{ chainId: '122', height: '1000', round: '0', blockHash: '0x' + '11'.repeat(32) }],
  },
);
const BlockSignature = Type.Object({
  signature: Hex('BLS signature (G2, 96 bytes) over signingRoot under the chain signature tag'),
  publicKey: Hex('compressed G1 public key'),
  signingRoot: Hex(
    'SHA-256(utf8("zoo-kms/validator/block/v1") || u64be(chainId) || u64be(height) || u32be(round) || blockHash)',
  ),
  chainId: Dec('chain id'),
  height: Dec('height'),
  round: Dec('round'),
  counter: Dec('signatures issued by this public key, monotonic'),
});
const PopBody = Type.Object({ chainId: U64 }, { additionalProperties: false });
const Pop = Type.Object({
  publicKey: Hex('compressed G1 public key'),
  proofOfPossession: Hex('the public key signed under the chain PoP tag'),
});
const Watermark = Type.Object({
  chainId: Dec('chain id'),
  height: Type.Union([Dec('highest height signed'), Type.Null()]),
  round: Type.Union([Dec('its round'), Type.Null()]),
  blockHash: NullableHex('the block signed there (null when it came from an interchange file)'),
  signingRoot: NullableHex('its signing root (null when unknown)'),
  counter: Dec('signatures issued by this public key, monotonic'),
});

const InterchangeBlock = Type.Object(
  {
    height: U64,
    round: U64,
    signing_root: Type.Optional(NullableHex('absent or null: unknown block, blocks re-signing')),
  },
  { additionalProperties: false },
);
const Interchange = Type.Object(
  {
    metadata: Type.Object(
      {
        interchange_format_version: Type.String({ maxLength: 64, description: 'zoo-kms/1' }),
        chainId: U64,
      },
      { additionalProperties: false },
    ),
    data: Type.Array(
      Type.Object(
        {
          pubkey: Hex('compressed G1 public key'),
          signed_blocks: Type.Array(InterchangeBlock, { maxItems: 100_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);
const ImportResult = Type.Object({
  chainId: Dec('chain id'),
  keys: Type.Integer({ description: 'public keys in the file' }),
  raised: Type.Integer({ description: 'watermarks raised (never lowered)' }),
});

const tags = ['validators'];
const validatorRole = { roles: ['validator'] as const };
const adminRole = { roles: ['admin'] as const };

export function validatorRoutes(services: Services): RouteModule {
  const validator = new ValidatorService(services.deps, services.keys);
  const slashing = new SlashingProtection(services.deps);
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();

    r.post(
      '/v1/validators/:key/block-signatures',
      {
        config: validatorRole,
        schema: { tags, params: KeyParams, body: BlockBody, response: { 200: BlockSignature } },
      },
      async (req) => {
        await authorizeKey(services, req, req.params.key, 'validator.block_signature');
        const b = req.body;
        const out = await validator.signBlock(callerOf(req), req.params.key, {
          chainId: parseU64('chainId', b.chainId),
          height: parseU64('height', b.height),
          round: parseU32('round', b.round),
          blockHash: parseHex('blockHash', b.blockHash, BLOCK_HASH_BYTES),
        });
        return {
          signature: toHex(out.signature),
          publicKey: toHex(out.publicKey),
          signingRoot: toHex(out.signingRoot),
          chainId: u64ToString(out.chainId),
          height: u64ToString(out.height),
          round: String(out.round),
          counter: String(out.counter),
        };
      },
    );

    r.post(
      '/v1/validators/:key/proof-of-possession',
      {
        config: validatorRole,
        schema: { tags, params: KeyParams, body: PopBody, response: { 200: Pop } },
      },
      async (req) => {
        await authorizeKey(services, req, req.params.key, 'validator.proof_of_possession');
        const chainId = parseU64('chainId', req.body.chainId);
        const out = await validator.proofOfPossession(callerOf(req), req.params.key, chainId);
        return { publicKey: toHex(out.publicKey), proofOfPossession: toHex(out.proofOfPossession) };
      },
    );

    r.get(
      '/v1/validators/:key/watermark',
      {
        config: validatorRole,
        schema: { tags, params: KeyParams, querystring: ChainQuery, response: { 200: Watermark } },
      },
      async (req) => {
        await authorizeKey(services, req, req.params.key, 'validator.watermark');
        const chainId = parseU64('chainId', req.query.chainId);
        const { watermark: w, counter } = await validator.watermark(
          callerOf(req),
          req.params.key,
          chainId,
        );
        return {
          chainId: u64ToString(chainId),
          height: w ? u64ToString(w.height) : null,
          round: w ? String(w.round) : null,
          blockHash: w?.blockHash ? toHex(w.blockHash) : null,
          signingRoot: w?.signingRoot ? toHex(w.signingRoot) : null,
          counter: String(counter),
        };
      },
    );

    r.get(
      '/v1/validators/slashing-protection',
      {
        config: adminRole,
        schema: { tags, querystring: ChainQuery, response: { 200: Interchange } },
      },
      async (req) => slashing.export(callerOf(req), parseU64('chainId', req.query.chainId)),
    );

    r.post(
      '/v1/validators/slashing-protection',
      { config: adminRole, schema: { tags, body: Interchange, response: { 200: ImportResult } } },
      async (req) => {
        const out = await slashing.import(callerOf(req), req.body);
        return { chainId: u64ToString(out.chainId), keys: out.keys, raised: out.raised };
      },
    );
  };
}
