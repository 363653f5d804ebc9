/**
 * The bare baseline routes of the benchmark (issue 10): the same HTTP stack, the same native BLS
 * path (`deps.bls.sign` on the worker threads) and the same JSON bodies as the measured routes, but
 * no auth, store, audit or schema. They exist only in the bench server (bench/server.ts passes them
 * through `buildApp(config, { extend })`); production (src/main.ts) never registers them.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../src/app.js';
import type { RouteModule } from '../src/http/server.js';
import { generateSecret } from '../src/keyring/material.js';
import { parseHex, parseU32, parseU64, toHex } from '../src/crypto/encoding.js';
import { blockSigningRoot } from '../src/services/validator/signing-root.js';
import { messageHash, parseBridgeMessage } from '../src/services/bridge-message.js';
import { resolveDst } from '../src/crypto/bls/tags.js';

export const BARE = {
  blockSign: '/bench/bare/block-sign',
  bridgeSign: '/bench/bare/bridge-sign',
  echo: '/bench/bare/echo',
} as const;

interface BlockBody {
  chainId: string;
  height: string;
  round: string;
  blockHash: string;
}

export function bareRoutes(services: Services): RouteModule {
  const sk = generateSecret('bls12-381');
  const dst = resolveDst('SIG_NUL');
  const { bls } = services.deps;
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => void sk.fill(0));
    app.post(BARE.blockSign, async (req) => {
      const b = req.body as BlockBody;
      const root = blockSigningRoot({
        chainId: parseU64('chainId', b.chainId),
        height: parseU64('height', b.height),
        round: parseU32('round', b.round),
        blockHash: parseHex('blockHash', b.blockHash, 32),
      });
      const signature = await bls.sign(sk, root, dst);
      return { signature: toHex(signature), signingRoot: toHex(root) };
    });
    app.post(BARE.bridgeSign, async (req) => {
      const hash = messageHash(
        parseBridgeMessage(req.body as never, services.config.bridge.maxPayload),
      );
      const signature = await bls.sign(sk, hash, dst);
      return { signature: toHex(signature), messageHash: toHex(hash) };
    });
    app.post(BARE.echo, async (req) => req.body);
  };
}
