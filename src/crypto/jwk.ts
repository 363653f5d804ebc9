/**
 * Public keys as JWKs for GET /.well-known/jwks.json (API.md "Keys"): Ed25519 as OKP (RFC 8037
 * sec. 2), P-256 and secp256k1 as EC (RFC 7518 sec. 6.2, RFC 8812 sec. 3.1), ML-DSA-65 as AKP with
 * the raw key in `pub` (draft-ietf-cose-dilithium, "JSON Web Key Representation"). All binary
 * members are unpadded base64url.
 */
import { KmsError } from '../errors.js';
import { ecPublicKeyXY } from './ecdsa.js';
import { toBase64Url } from './encoding.js';
import { parsePublicKey, type SignatureAlgorithm } from './signatures.js';

interface JwkBase {
  alg: string;
  use: 'sig';
  kid?: string;
}

export type Jwk =
  | (JwkBase & { kty: 'OKP'; crv: 'Ed25519'; x: string })
  | (JwkBase & { kty: 'EC'; crv: 'P-256' | 'secp256k1'; x: string; y: string })
  | (JwkBase & { kty: 'AKP'; pub: string });

function withKid<T extends JwkBase>(jwk: T, kid: string | undefined): T {
  return kid === undefined ? jwk : { ...jwk, kid };
}

/** `publicKey` in any form requests accept (EC: SEC1 compressed or uncompressed). */
export function publicKeyToJwk(algorithm: string, publicKey: Uint8Array, kid?: string): Jwk {
  switch (algorithm as SignatureAlgorithm) {
    case 'ed25519': {
      const x = toBase64Url(parsePublicKey('ed25519', publicKey));
      return withKid({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', x }, kid);
    }
    case 'p-256':
    case 'secp256k1': {
      const curve = algorithm as 'p-256' | 'secp256k1';
      const { x, y } = ecPublicKeyXY(curve, publicKey);
      const [crv, alg] =
        curve === 'p-256' ? (['P-256', 'ES256'] as const) : (['secp256k1', 'ES256K'] as const);
      return withKid(
        { kty: 'EC', crv, alg, use: 'sig', x: toBase64Url(x), y: toBase64Url(y) },
        kid,
      );
    }
    case 'ml-dsa-65': {
      const pub = toBase64Url(parsePublicKey('ml-dsa-65', publicKey));
      return withKid({ kty: 'AKP', alg: 'ML-DSA-65', use: 'sig', pub }, kid);
    }
    default:
      throw new KmsError('UNSUPPORTED', `${algorithm} keys have no JWK form`);
  }
}
