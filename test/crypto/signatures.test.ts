/**
 * Software signing checked by independent verifiers: node:crypto (OpenSSL) for ECDSA and Ed25519,
 * the @noble/post-quantum verifier for ML-DSA-65; plus the low-S, recovery and input rules.
 */
import { createPublicKey, verify as osslVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendRecoveryId,
  ecPublicKeyXY,
  normalizeLowS,
  type EcCurve,
} from '../../src/crypto/ecdsa.js';
import { hmacSha256, hmacSha256Verify } from '../../src/crypto/hmac.js';
import {
  derivePublicKey,
  parsePublicKey,
  signWith,
  verifyWith,
} from '../../src/crypto/signatures.js';
import { hex, readJson, type WycheproofFile } from './vectors.js';

const ORDER = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'p-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};
const CRV = { secp256k1: 'secp256k1', 'p-256': 'P-256' };
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const be32 = (n: bigint) => hex(n.toString(16).padStart(64, '0'));
const key = (i: number) => sha256(Uint8Array.of(i));
const utf8 = (s: string) => new TextEncoder().encode(s);

/** OpenSSL's verdict on an r || s signature over `msg` (it hashes with SHA-256 itself). */
function opensslEcdsa(curve: EcCurve, pk: Uint8Array, msg: Uint8Array, rs: Uint8Array): boolean {
  const { x, y } = ecPublicKeyXY(curve, pk);
  const jwk = { kty: 'EC', crv: CRV[curve], x: b64u(x), y: b64u(y) };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  return osslVerify('sha256', msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rs);
}

const highS = (curve: EcCurve, rs: Uint8Array) =>
  Uint8Array.of(
    ...rs.subarray(0, 32),
    ...be32(ORDER[curve] - BigInt('0x' + Buffer.from(rs.subarray(32)).toString('hex'))),
  );
const isLowS = (curve: EcCurve, rs: Uint8Array) =>
  BigInt('0x' + Buffer.from(rs.subarray(32)).toString('hex')) <= ORDER[curve] >> 1n;

describe.each(['secp256k1', 'p-256'] as const)('ECDSA %s', (curve) => {
  const sk = key(1);
  const pk = derivePublicKey(curve, sk);

  it('derives a compressed SEC1 key and OpenSSL verifies its signatures', () => {
    expect(pk).toHaveLength(33);
    const msg = utf8('hello zoo');
    const sig = signWith(curve, sk, { message: msg });
    expect(sig).toHaveLength(64);
    expect(opensslEcdsa(curve, pk, msg, sig)).toBe(true);
    expect(signWith(curve, sk, { digest: sha256(msg) })).toEqual(sig);
  });

  it('always signs low-S (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 2, max: 200 }), (msg, i) => {
        const sig = signWith(curve, key(i), { message: msg });
        expect(isLowS(curve, sig)).toBe(true);
        expect(
          verifyWith(curve, derivePublicKey(curve, key(i)), { message: msg }, sig, { lowS: true }),
        ).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('plain verify accepts high-S; lowS refuses it; normalizeLowS restores low-S', () => {
    const msg = utf8('malleable');
    const sig = signWith(curve, sk, { message: msg });
    const high = highS(curve, sig);
    expect(verifyWith(curve, pk, { message: msg }, high)).toBe(true);
    expect(verifyWith(curve, pk, { message: msg }, high, { lowS: true })).toBe(false);
    expect(normalizeLowS(curve, high)).toEqual(sig);
    expect(normalizeLowS(curve, sig)).toEqual(sig);
  });

  it('parses compressed and uncompressed keys; malformed keys verify false', () => {
    const { x, y } = ecPublicKeyXY(curve, pk);
    const uncompressed = Uint8Array.of(4, ...x, ...y);
    expect(parsePublicKey(curve, uncompressed)).toEqual(pk);
    expect(parsePublicKey(curve, pk)).toEqual(pk);
    const msg = utf8('m');
    const sig = signWith(curve, sk, { message: msg });
    expect(verifyWith(curve, uncompressed, { message: msg }, sig)).toBe(true);
    const hybrid = Uint8Array.of(6 + (y[31]! & 1), ...x, ...y);
    const offCurve = Uint8Array.of(4, ...x, ...y.map((b, i) => (i === 31 ? b ^ 1 : b)));
    for (const bad of [hybrid, offCurve, pk.subarray(1), new Uint8Array(33), Uint8Array.of(0)]) {
      expect(() => parsePublicKey(curve, bad, 'publicKey')).toThrow(/^publicKey must be/);
      expect(verifyWith(curve, bad, { message: msg }, sig)).toBe(false);
    }
    expect(verifyWith(curve, pk, { message: msg }, sig.subarray(1))).toBe(false);
  });

  it.each([
    ['zero', new Uint8Array(32), /1\.\.n-1/],
    ['n', be32(ORDER[curve]), /1\.\.n-1/],
    ['31 bytes', new Uint8Array(31).fill(1), /32-byte/],
  ])('refuses a %s private key', (_n, bad, message) => {
    expect(() => derivePublicKey(curve, bad)).toThrow(message);
    expect(() => signWith(curve, bad, { message: utf8('x') })).toThrow(/^privateKey /);
  });

  it('refuses a digest that is not 32 bytes and a context', () => {
    expect(() => signWith(curve, sk, { digest: new Uint8Array(31) })).toThrow(
      /^digest must be 32 bytes/,
    );
    expect(() => verifyWith(curve, pk, { digest: new Uint8Array(33) }, new Uint8Array(64))).toThrow(
      /^digest/,
    );
    expect(() =>
      signWith(curve, sk, { message: utf8('x') }, { context: new Uint8Array(1) }),
    ).toThrow(/^context/);
  });
});

describe('secp256k1 recoverable', () => {
  it('the appended id recovers the public key (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 200 }), (msg, i) => {
        const pk = derivePublicKey('secp256k1', key(i));
        const sig = signWith('secp256k1', key(i), { message: msg }, { recoverable: true });
        expect(sig).toHaveLength(65);
        expect([0, 1]).toContain(sig[64]);
        const nobleForm = Uint8Array.of(sig[64]!, ...sig.subarray(0, 64));
        expect(secp256k1.recoverPublicKey(nobleForm, sha256(msg), { prehash: false })).toEqual(pk);
        expect(appendRecoveryId(sha256(msg), sig.subarray(0, 64), pk)).toEqual(sig);
      }),
      { numRuns: 50 },
    );
  });

  it('is refused for other curves', () => {
    expect(() => signWith('p-256', key(1), { message: utf8('x') }, { recoverable: true })).toThrow(
      /^format/,
    );
    expect(() =>
      signWith('ed25519', key(1), { message: utf8('x') }, { recoverable: true }),
    ).toThrow(/^format/);
  });
});

describe('ed25519', () => {
  // RFC 8032 sec. 7.1, TEST 1 (empty message).
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pk = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const sig = hex(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );

  it('reproduces RFC 8032 TEST 1', () => {
    expect(derivePublicKey('ed25519', seed)).toEqual(pk);
    expect(signWith('ed25519', seed, { message: new Uint8Array() })).toEqual(sig);
    expect(verifyWith('ed25519', pk, { message: new Uint8Array() }, sig)).toBe(true);
  });

  it('OpenSSL verifies its signatures', () => {
    const msg = utf8('audit checkpoint');
    const s = signWith('ed25519', key(5), { message: msg });
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(derivePublicKey('ed25519', key(5))) };
    expect(osslVerify(null, msg, createPublicKey({ key: jwk, format: 'jwk' }), s)).toBe(true);
  });

  it('takes a message only, and a 32-byte seed', () => {
    expect(() => signWith('ed25519', seed, { digest: new Uint8Array(32) })).toThrow(
      /^digest is only/,
    );
    expect(() => signWith('ed25519', new Uint8Array(64), { message: utf8('x') })).toThrow(
      /^privateKey/,
    );
    expect(verifyWith('ed25519', pk.subarray(1), { message: new Uint8Array() }, sig)).toBe(false);
  });
});

describe('ml-dsa-65', () => {
  const seed = key(9);

  it('derives the same 1,952-byte key from the same seed, another from another', () => {
    const pk = derivePublicKey('ml-dsa-65', seed);
    expect(pk).toHaveLength(1952);
    expect(derivePublicKey('ml-dsa-65', seed)).toEqual(pk);
    expect(ml_dsa65.keygen(seed).publicKey).toEqual(pk);
    expect(derivePublicKey('ml-dsa-65', key(10))).not.toEqual(pk);
  });

  it('signs with a context that noble verifies; the context is bound', () => {
    const pk = derivePublicKey('ml-dsa-65', seed);
    const msg = utf8('post-quantum');
    const context = utf8('zoo-kms/test');
    const sig = signWith('ml-dsa-65', seed, { message: msg }, { context });
    expect(sig).toHaveLength(3309);
    expect(ml_dsa65.verify(sig, msg, pk, { context })).toBe(true);
    expect(verifyWith('ml-dsa-65', pk, { message: msg }, sig, { context })).toBe(true);
    expect(verifyWith('ml-dsa-65', pk, { message: msg }, sig)).toBe(false);
    expect(verifyWith('ml-dsa-65', pk, { message: utf8('other') }, sig, { context })).toBe(false);
    expect(verifyWith('ml-dsa-65', pk.subarray(1), { message: msg }, sig, { context })).toBe(false);
    const plain = signWith('ml-dsa-65', seed, { message: msg });
    expect(ml_dsa65.verify(plain, msg, pk)).toBe(true);
  });

  it('refuses a context over 255 bytes and a digest', () => {
    const long = new Uint8Array(256);
    expect(() => signWith('ml-dsa-65', seed, { message: utf8('x') }, { context: long })).toThrow(
      /^context must be at most 255/,
    );
    expect(
      signWith('ml-dsa-65', seed, { message: utf8('x') }, { context: long.subarray(1) }),
    ).toHaveLength(3309);
    expect(() => signWith('ml-dsa-65', seed, { digest: new Uint8Array(32) })).toThrow(/^digest/);
  });
});

describe('hmac-sha256 (Wycheproof, 256-bit keys, full tags)', () => {
  type G = { keySize: number; tagSize: number };
  const data = readJson<WycheproofFile<G>>('wycheproof', 'hmac_sha256_test.json');
  const tests = data.testGroups
    .filter((g) => g.keySize === 256 && g.tagSize === 256)
    .flatMap((g) => g.tests);

  it.each(tests.map((t) => [t.tcId, t] as const))('tc %s', (_id, t) => {
    const k = hex(t.key as string);
    const msg = hex(t.msg as string);
    const tag = hex(t.tag as string);
    expect(hmacSha256Verify(k, msg, tag)).toBe(t.result === 'valid');
    if (t.result === 'valid') expect(hmacSha256(k, msg)).toEqual(tag);
  });

  it('refuses truncated tags and short keys', () => {
    const mac = hmacSha256(key(1), utf8('x'));
    expect(hmacSha256Verify(key(1), utf8('x'), mac.subarray(0, 16))).toBe(false);
    expect(() => hmacSha256(new Uint8Array(16), utf8('x'))).toThrow(/^privateKey/);
  });
});
