/** GET /.well-known/jwks.json: public keys created with `jwks: true`, `kid` = `{name}:{version}`. */
import { publicKeyToJwk } from '../crypto/jwk.js';
import type { ServiceDeps } from './context.js';

const PUBLISHABLE = ['ed25519', 'p-256', 'secp256k1', 'ml-dsa-65'];

export async function jwksOf(deps: ServiceDeps): Promise<unknown[]> {
  const rows = await deps.db
    .selectFrom('keys')
    .innerJoin('key_versions', 'key_versions.key_id', 'keys.id')
    .select(['keys.name', 'keys.algorithm', 'key_versions.version', 'key_versions.public_key'])
    .where('keys.jwks', '=', 1)
    .where('keys.enabled', '=', 1)
    .where('key_versions.state', '!=', 'destroyed')
    .where('keys.algorithm', 'in', PUBLISHABLE)
    .orderBy('keys.name')
    .orderBy('key_versions.version')
    .execute();
  return rows
    .filter((r) => r.public_key)
    .map((r) => publicKeyToJwk(r.algorithm, r.public_key!, `${r.name}:${r.version}`));
}
