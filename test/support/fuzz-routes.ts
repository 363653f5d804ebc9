/**
 * The routes of a running KMS, read from Fastify itself (`printRoutes`), and a valid request for
 * each: the starting point the fuzz test mutates. A route the templates do not know still gets
 * fuzzed (with generic bodies); the test fails if one appears, so a new route gets a template.
 */
import type { FastifyInstance } from 'fastify';

export interface Route {
  readonly method: string;
  /** Fastify's form: `/v1/keys/:name/sign`. */
  readonly url: string;
}

/**
 * Parses `printRoutes({ commonPrefix: false })`: a tree whose lines are `├── /segment (GET, HEAD)`,
 * indented four columns per level, children continuing their parent's path.
 */
export function routesOf(app: FastifyInstance): Route[] {
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(url);
    for (const method of m[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

/** Names and values the templates need: fixture keys, a ciphertext of each kind, recipients. */
export interface Fixtures {
  readonly signingKeys: readonly string[];
  readonly aesKey: string;
  readonly derivationKey: string;
  readonly validatorKey: string;
  readonly bridgeKey: string;
  readonly blsPublicKey: string;
  readonly secp256k1PublicKey: string;
  readonly aesCiphertext: string;
  readonly experienceCiphertext: string;
  readonly recipient: string;
}

export interface Template {
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: Record<string, unknown>;
}

const HASH = '0x' + '11'.repeat(32);
const now = () => String(Math.floor(Date.now() / 1000));

/** A valid request per `METHOD url` (bodies of routes that take none are absent). */
export function templates(
  f: Fixtures,
  pick: <T>(xs: readonly T[]) => T,
): Record<string, () => Template> {
  const anyKey = () => pick([...f.signingKeys, f.aesKey, f.derivationKey, f.validatorKey]);
  const victim = () => ({ name: pick(['fz-victim', 'fz-gone', anyKey()]) });
  const enc = () => ({ name: f.aesKey });
  const user = { userId: 'did:lux:122:fuzz' };
  const bridge = {
    sourceChainId: '122',
    targetChainId: '120',
    nonce: '7',
    timestamp: now(),
    payload: '0x00ff',
  };
  return {
    'POST /v1/verify': () => ({
      body: {
        algorithm: 'secp256k1',
        publicKey: f.secp256k1PublicKey,
        message: 'aGk=',
        signature: '0x' + '22'.repeat(64),
      },
    }),
    'POST /v1/keys': () => ({
      body: {
        name: `fz-${Math.random().toString(36).slice(2, 10)}`,
        algorithm: pick([
          'ed25519',
          'secp256k1',
          'p-256',
          'aes-256-gcm',
          'hmac-sha256',
          'bls12-381',
        ]),
        purpose: pick(['signing', 'encryption', 'derivation', 'validator', 'bridge']),
      },
    }),
    'POST /v1/keys/import': () => ({
      body: {
        name: `fz-imp-${Math.random().toString(36).slice(2, 10)}`,
        algorithm: 'secp256k1',
        purpose: 'signing',
        privateKey: '0x' + '01'.repeat(32),
      },
    }),
    'GET /v1/keys/:name': () => ({ params: { name: anyKey() } }),
    'PATCH /v1/keys/:name': () => ({ params: victim(), body: { enabled: true } }),
    'DELETE /v1/keys/:name': () => ({ params: victim() }),
    'DELETE /v1/keys/:name/versions/:version': () => ({ params: { ...victim(), version: '1' } }),
    'POST /v1/keys/:name/rotate': () => ({ params: { name: pick(f.signingKeys) } }),
    'POST /v1/keys/:name/sign': () => ({ params: { name: anyKey() }, body: { message: 'aGk=' } }),
    'POST /v1/keys/:name/verify': () => ({
      params: { name: anyKey() },
      body: { message: 'aGk=', signature: '0x' + '33'.repeat(64) },
    }),
    'POST /v1/keys/:name/encrypt': () => ({
      params: enc(),
      body: { plaintext: 'aGk=', context: { a: 'b' } },
    }),
    'POST /v1/keys/:name/decrypt': () => ({ params: enc(), body: { ciphertext: f.aesCiphertext } }),
    'POST /v1/keys/:name/rewrap': () => ({ params: enc(), body: { ciphertext: f.aesCiphertext } }),
    'POST /v1/keys/:name/datakey': () => ({ params: enc(), body: { bytes: 32, plaintext: false } }),
    'POST /v1/keys/:name/derive': () => ({
      params: { name: f.derivationKey },
      body: { info: 'disk', length: 32, ...(pick([true, false]) ? { wrapTo: f.recipient } : {}) },
    }),
    'POST /v1/validators/:key/block-signatures': () => ({
      params: { key: f.validatorKey },
      body: {
        chainId: '122',
        height: String(1 + Math.floor(Math.random() * 1e6)),
        round: '0',
        blockHash: HASH,
      },
    }),
    'POST /v1/validators/:key/proof-of-possession': () => ({
      params: { key: f.validatorKey },
      body: { chainId: '122' },
    }),
    'GET /v1/validators/:key/watermark': () => ({
      params: { key: f.validatorKey },
      query: { chainId: '122' },
    }),
    'GET /v1/validators/slashing-protection': () => ({ query: { chainId: '122' } }),
    'POST /v1/validators/slashing-protection': () => ({
      body: {
        metadata: { interchange_format_version: 'zoo-kms/1', chainId: '122' },
        data: [{ pubkey: f.blsPublicKey, signed_blocks: [{ height: '1', round: '0' }] }],
      },
    }),
    'POST /v1/principals': () => ({
      body: {
        name: `fz-p-${Math.random().toString(36).slice(2, 8)}`,
        role: 'signing',
        scopes: ['fz-*'],
      },
    }),
    'PATCH /v1/principals/:name': () => ({
      params: { name: 'fz-signer' },
      body: { scopes: ['fz-*'] },
    }),
    'DELETE /v1/principals/:name': () => ({ params: { name: pick(['fz-nobody', 'fz-temp']) } }),
    'POST /v1/principals/:name/tokens': () => ({
      params: { name: 'fz-signer' },
      body: { ttlSeconds: 60 },
    }),
    'GET /v1/principals/:name/tokens': () => ({ params: { name: 'fz-signer' } }),
    'DELETE /v1/tokens/:tokenId': () => ({ params: { tokenId: 'tok_' + '0'.repeat(24) } }),
    'GET /v1/audit/events': () => ({ query: { limit: '5', after: '0' } }),
    'GET /v1/replicate/:ecosystem/:env/:service/recipients': () => ({
      params: { ecosystem: 'zoo', env: 'prod', service: 'fuzz' },
    }),
    'POST /v1/replicate/:ecosystem/:env/:service/identity': () => ({
      params: { ecosystem: 'zoo', env: 'prod', service: 'fuzz' },
      body: { wrapTo: f.recipient, kind: pick(['mlkem768x25519', 'x25519']) },
    }),
    'POST /v1/replicate/:ecosystem/:env/rotate': () => ({
      params: { ecosystem: 'zoo', env: 'prod' },
    }),
    'POST /v1/bridge/:key/signatures': () => ({
      params: { key: f.bridgeKey },
      body: { ...bridge, nonce: String(Math.floor(Math.random() * 1e9)) },
    }),
    'POST /v1/bridge/verify': () => ({
      body: { ...bridge, publicKey: f.blsPublicKey, signature: '0x' + 'c0' + '00'.repeat(95) },
    }),
    'POST /v1/experience/encrypt': () => ({ body: { ...user, plaintext: 'aGk=', context: 'c' } }),
    'POST /v1/experience/decrypt': () => ({
      body: { ...user, ciphertext: f.experienceCiphertext },
    }),
    'POST /v1/experience/rewrap': () => ({ body: { ...user, ciphertext: f.experienceCiphertext } }),
    'POST /v1/experience/encrypt:batch': () => ({
      body: { items: [{ ...user, plaintext: 'aGk=' }] },
    }),
    'POST /v1/experience/decrypt:batch': () => ({
      body: { items: [{ ...user, ciphertext: f.experienceCiphertext }] },
    }),
    'DELETE /v1/experience/users/:userId': () => ({ params: { userId: 'did:lux:122:fz-victim' } }),
    'POST /v1/experience/rotate': () => ({}),
  };
}
