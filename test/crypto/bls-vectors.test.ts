/**
 * The Ethereum BLS12-381 vectors (ethereum/bls12-381-tests, ciphersuite
 * BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_) through the engine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createBlsEngine } from '../../src/crypto/bls/engine.js';
import { BLS_TAGS, tagBytes } from '../../src/crypto/bls/tags.js';
import { isKmsError } from '../../src/errors.js';
import { hex, readFolder } from './vectors.js';

const ETH = 'bls12-381-tests-eth';
const POP = tagBytes(BLS_TAGS.SIG_POP);
const engine = createBlsEngine({ threads: 2 });
afterAll(() => engine.close());

type Sign = { input: { privkey: string; message: string }; output: string | null };
type Verify = { input: { pubkey: string; message: string; signature: string }; output: boolean };
type Fast = { input: { pubkeys: string[]; message: string; signature: string }; output: boolean };
type G1 = { input: { pubkey: string }; output: boolean };
type G2 = { input: { signature: string }; output: boolean };

describe('sign vectors', () => {
  it.each(readFolder<Sign>(ETH, 'sign'))('%s', async (_name, v) => {
    const sk = hex(v.input.privkey);
    const msg = hex(v.input.message);
    if (v.output === null) {
      const e: unknown = await engine.sign(sk, msg, POP).catch((err: unknown) => err);
      expect(isKmsError(e) && e.code === 'INVALID_REQUEST').toBe(true);
      expect(() => engine.publicKey(sk)).toThrow(/privateKey/);
      return;
    }
    const sig = await engine.sign(sk, msg, POP);
    expect(sig).toEqual(hex(v.output));
    expect(await engine.verify([engine.publicKey(sk)], msg, sig, POP)).toBe(true);
  });
});

describe('verify vectors', () => {
  it.each(readFolder<Verify>(ETH, 'verify'))('%s', async (_name, v) => {
    const { pubkey, message, signature } = v.input;
    expect(await engine.verify([hex(pubkey)], hex(message), hex(signature), POP)).toBe(v.output);
  });
});

describe('fast_aggregate_verify vectors', () => {
  it.each(readFolder<Fast>(ETH, 'fast_aggregate_verify'))('%s', async (_name, v) => {
    const { pubkeys, message, signature } = v.input;
    expect(await engine.verify(pubkeys.map(hex), hex(message), hex(signature), POP)).toBe(v.output);
  });
});

describe('deserialization vectors', () => {
  it.each(readFolder<G1>(ETH, 'deserialization_G1'))('G1 %s', (name, v) => {
    const bytes = hex(v.input.pubkey);
    // The identity deserializes (the vector's `true`) but fails KeyValidate (sec. 2.5), so it is
    // no public key: verify must answer false for it (verify_infinity_pubkey_*).
    const expected = v.output && !name.includes('infinity');
    expect(engine.isPublicKey(bytes)).toBe(expected);
    if (expected) expect(engine.decodePublicKey(bytes)).toBe(bytes);
    else expect(() => engine.decodePublicKey(bytes, 'publicKeys[0]')).toThrow(/publicKeys\[0\]/);
  });

  it.each(readFolder<G2>(ETH, 'deserialization_G2'))('G2 %s', (_name, v) => {
    const bytes = hex(v.input.signature);
    expect(engine.isSignature(bytes)).toBe(v.output);
    if (v.output) expect(engine.decodeSignature(bytes)).toBe(bytes);
    else expect(() => engine.decodeSignature(bytes)).toThrow(/signature/);
  });
});
