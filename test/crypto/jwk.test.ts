/** JWKs, checked by importing them into node:crypto and verifying a signature with the result. */
import { createPublicKey, verify as osslVerify } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { ecPublicKeyXY } from '../../src/crypto/ecdsa.js';
import { publicKeyToJwk } from '../../src/crypto/jwk.js';
import { derivePublicKey, signWith } from '../../src/crypto/signatures.js';

const sk = sha256(Uint8Array.of(42));
const msg = new TextEncoder().encode('jwks');

describe('publicKeyToJwk', () => {
  it.each(['p-256', 'secp256k1'] as const)('%s as EC from compressed or uncompressed', (curve) => {
    const pk = derivePublicKey(curve, sk);
    const jwk = publicKeyToJwk(curve, pk, 'k:1');
    expect(jwk).toMatchObject({
      kty: 'EC',
      crv: curve === 'p-256' ? 'P-256' : 'secp256k1',
      kid: 'k:1',
      use: 'sig',
    });
    const { x, y } = ecPublicKeyXY(curve, pk);
    expect(publicKeyToJwk(curve, Uint8Array.of(4, ...x, ...y), 'k:1')).toEqual(jwk);
    const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    const sig = signWith(curve, sk, { message: msg });
    expect(osslVerify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  it('ed25519 as OKP', () => {
    const jwk = publicKeyToJwk('ed25519', derivePublicKey('ed25519', sk));
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwk).not.toHaveProperty('kid');
    const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    expect(osslVerify(null, msg, key, signWith('ed25519', sk, { message: msg }))).toBe(true);
  });

  it('ml-dsa-65 as AKP with the raw key in pub', () => {
    const pk = derivePublicKey('ml-dsa-65', sk);
    const jwk = publicKeyToJwk('ml-dsa-65', pk, 'pq:2');
    expect(jwk).toEqual({
      kty: 'AKP',
      alg: 'ML-DSA-65',
      use: 'sig',
      kid: 'pq:2',
      pub: Buffer.from(pk).toString('base64url'),
    });
  });

  it('refuses keys without a JWK form and malformed keys', () => {
    expect(() => publicKeyToJwk('bls12-381', new Uint8Array(48))).toThrow(/no JWK form/);
    expect(() => publicKeyToJwk('p-256', new Uint8Array(33))).toThrow(/^publicKey/);
    expect(() => publicKeyToJwk('ml-dsa-65', new Uint8Array(10))).toThrow(/^publicKey/);
  });
});
