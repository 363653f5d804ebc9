/**
 * OpenSSL's X25519 under age-encryption's hybrid KEM, in the age worker threads.
 *
 * age-encryption encrypts to an `age1pq1` recipient with @noble/post-quantum's ML-KEM-768 + X25519
 * hybrid, whose three X25519 operations per file run @noble/curves' pure-JavaScript Montgomery
 * ladder: about 1 ms each, two thirds of an identity request (docs/performance.md). The ladder over
 * BigInts is also not constant-time. This source is the module that the workers' resolution hook
 * (native-hooks.ts) hands @noble/post-quantum, and only it, in place of `@noble/curves/ed25519.js`:
 * an `x25519` object whose scalar multiplications are node:crypto's (OpenSSL, constant-time, about
 * 50 to 90 us each). Everything else (the KEM, the HPKE, the age format) is age-encryption's own
 * code, unchanged; the object keeps noble's `utils`, `lengths` and `GuBytes`, and it refuses what
 * noble refuses (a 32-byte length, an all-zero shared secret). test/crypto/native-x25519.test.ts
 * checks it against noble and every Wycheproof X25519 vector.
 *
 * Keys go in as JWK: Node parses an X25519 JWK about ten times faster than the PKCS #8 / SPKI DER
 * (OpenSSL 3.0's decoders cost ~450 us per private key). A private JWK must carry `x`, but Node
 * builds the key from `d` alone and derives the public half itself, so `x` is a placeholder. The
 * shim checks itself against RFC 7748's known answers when it loads and, should they not hold,
 * hands out noble's own `x25519` (and the workers report it).
 */

/** The global a worker reads to tell whether the shim was loaded. */
export const NATIVE_X25519_FLAG = 'zoo-kms.native-x25519';

/** ESM source of the replacement `@noble/curves/ed25519.js` (`?real=` names the original). */
export const X25519_SHIM_SOURCE = `
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
const real = await import(new URL(import.meta.url).searchParams.get('real'));
const js = real.x25519;
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');
function bytes(value, name) {
  if (!(value instanceof Uint8Array) || value.length !== 32) throw new Error('"' + name + '" expected Uint8Array of length 32');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64url');
}
function privateKey(scalar) {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: bytes(scalar, 'scalar'), x: PLACEHOLDER_X }, format: 'jwk' });
}
function scalarMult(scalar, u) {
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: bytes(u, 'uCoordinate') }, format: 'jwk' });
  let shared;
  try {
    shared = diffieHellman({ privateKey: privateKey(scalar), publicKey });
  } catch {
    // OpenSSL refuses an all-zero shared secret (a low-order point), as noble does.
    throw new Error('invalid private or public key received');
  }
  const out = new Uint8Array(shared);
  shared.fill(0);
  return out;
}
function scalarMultBase(scalar) {
  return new Uint8Array(Buffer.from(createPublicKey(privateKey(scalar)).export({ format: 'jwk' }).x, 'base64url'));
}
// RFC 7748 sections 5.2 and 6.1. Should a runtime ever parse these keys differently, the workers
// keep noble's ladder (slower, same answers) instead of encrypting with a broken X25519.
function knownAnswers() {
  const hex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
  const out = (b) => Buffer.from(b).toString('hex');
  try {
    return out(scalarMult(hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'))) === 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552'
      && out(scalarMultBase(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))) === '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  } catch {
    return false;
  }
}
const native = knownAnswers();
globalThis[Symbol.for(${JSON.stringify(NATIVE_X25519_FLAG)})] = native;
export const x25519 = native
  ? Object.freeze({
      ...js,
      scalarMult,
      scalarMultBase,
      getSharedSecret: scalarMult,
      getPublicKey: scalarMultBase,
      // The public key is derived when first read: the hybrid KEM's encapsulation keeps only the
      // secret key of its ephemeral key pair (and derives the public key from it later), so one
      // of its three scalar multiplications was thrown away. Read after the secret key was wiped,
      // it would be some other key's: that throws instead.
      keygen(seed) {
        const secretKey = js.utils.randomSecretKey(seed);
        let publicKey;
        return {
          secretKey,
          get publicKey() {
            if (publicKey === undefined) {
              let any = 0;
              for (const b of secretKey) any |= b;
              if (any === 0)
                throw new Error('x25519 keygen: public key read after its secret key was wiped');
              publicKey = scalarMultBase(secretKey);
            }
            return publicKey;
          },
        };
      },
    })
  : js;
`;
