/**
 * The engine against @noble/curves as the independent implementation (ARCHITECTURE.md "Signing
 * rules"): block signatures under SIG_NUL and proofs of possession under POP_PROVE, for which no
 * public vector file exists (vectors/README.md).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createBlsEngine } from '../../src/crypto/bls/engine.js';
import { WORKER_NICE } from '../../src/crypto/worker-pool.js';
import { threadNice } from '../support/nice.js';
import { assertSecretKey } from '../../src/crypto/bls/keys.js';
import { BLS_TAGS, resolveDst, resolveTag, tagBytes } from '../../src/crypto/bls/tags.js';

const sigs = bls12_381.longSignatures;
const engine = createBlsEngine({ threads: 2 });
afterAll(() => engine.close());

function secretKey(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`zoo-kms test key ${i}`)).map((b, j) =>
    j === 0 ? b & 0x3f : b,
  );
}

function nobleSign(sk: Uint8Array, msg: Uint8Array, tag: string): Uint8Array {
  return sigs.Signature.toBytes(sigs.sign(sigs.hash(msg, tag), sk));
}

describe('cross-check with @noble/curves', () => {
  it('public keys match', () => {
    const sk = secretKey(1);
    expect(engine.publicKey(sk)).toEqual(sigs.getPublicKey(sk).toBytes(true));
  });

  it('block signatures under SIG_NUL match and verify both ways', async () => {
    const sk = secretKey(2);
    const root = sha256(new TextEncoder().encode('a signing root'));
    const sig = await engine.sign(sk, root, tagBytes(BLS_TAGS.SIG_NUL));
    expect(sig).toEqual(nobleSign(sk, root, BLS_TAGS.SIG_NUL));
    const pk = engine.publicKey(sk);
    expect(sigs.verify(sig, sigs.hash(root, BLS_TAGS.SIG_NUL), pk)).toBe(true);
    expect(await engine.verify([pk], root, sig, tagBytes(BLS_TAGS.SIG_NUL))).toBe(true);
    // The tag is bound: the same signature does not verify under POP.
    expect(await engine.verify([pk], root, sig, tagBytes(BLS_TAGS.SIG_POP))).toBe(false);
  });

  it('a proof of possession signs the compressed public key under POP_PROVE', async () => {
    const sk = secretKey(3);
    const pk = engine.publicKey(sk);
    const proof = await engine.sign(sk, pk, tagBytes(BLS_TAGS.POP_PROVE));
    expect(proof).toEqual(nobleSign(sk, pk, BLS_TAGS.POP_PROVE));
    expect(sigs.verify(proof, sigs.hash(pk, BLS_TAGS.POP_PROVE), pk)).toBe(true);
  });

  it('aggregate verification matches noble aggregation', async () => {
    const msg = new TextEncoder().encode('bridge message');
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const keys = [4, 5, 6].map(secretKey);
    const parts = await Promise.all(keys.map((sk) => engine.sign(sk, msg, dst)));
    const agg = sigs.Signature.toBytes(sigs.aggregateSignatures(parts));
    const pks = keys.map((sk) => engine.publicKey(sk));
    expect(await engine.verify(pks, msg, agg, dst)).toBe(true);
    expect(await engine.verify(pks.slice(0, 2), msg, agg, dst)).toBe(false);
    expect(await engine.verify([], msg, agg, dst)).toBe(false);
    expect(await engine.verify(pks, msg, agg.subarray(1), dst)).toBe(false);
  });

  it('verifies on a worker: the event loop turns while a large aggregate is checked', async () => {
    const msg = new TextEncoder().encode('committee message');
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const keys = Array.from({ length: 1000 }, (_, i) => secretKey(1000 + i));
    const parts = await Promise.all(keys.map((sk) => engine.sign(sk, msg, dst)));
    const agg = sigs.Signature.toBytes(sigs.aggregateSignatures(parts));
    const pks = keys.map((sk) => engine.publicKey(sk));
    let turned = false;
    setImmediate(() => (turned = true));
    // On the event loop, the check would finish before that callback could run.
    expect(await engine.verify(pks, msg, agg, dst)).toBe(true);
    expect(turned).toBe(true);
  });

  it('an empty message signs and verifies', async () => {
    const sk = secretKey(7);
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const sig = await engine.sign(sk, new Uint8Array(), dst);
    expect(sig).toEqual(nobleSign(sk, new Uint8Array(), BLS_TAGS.SIG_NUL));
  });
});

describe('workers', () => {
  it('1,000 parallel signs are all correct', async () => {
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const sk = secretKey(8);
    const pk = engine.publicKey(sk);
    const msgs = Array.from({ length: 1000 }, (_, i) => sha256(Uint8Array.of(i >> 8, i & 0xff)));
    const out = await Promise.all(msgs.map((m) => engine.sign(sk, m, dst)));
    for (const [i, sig] of out.entries())
      expect(await engine.verify([pk], msgs[i]!, sig, dst)).toBe(true);
    expect(new Set(out.map((s) => Buffer.from(s).toString('hex'))).size).toBe(1000);
    expect(sk).toEqual(secretKey(8)); // the caller's key is copied, never transferred or wiped
  });

  it('signs on threads niced below the event loop (WORKER_NICE)', async () => {
    const e = createBlsEngine({ threads: 2 });
    try {
      const dst = tagBytes(BLS_TAGS.SIG_NUL);
      await Promise.all([1, 2, 3, 4].map((i) => e.sign(secretKey(9), Uint8Array.of(i), dst)));
      const niced = readdirSync('/proc/self/task').filter((tid) => threadNice(tid) === WORKER_NICE);
      expect(WORKER_NICE).toBeGreaterThan(0);
      // This engine's two workers at least (the shared engine's may be there too).
      expect(niced.length).toBeGreaterThanOrEqual(2);
      expect(threadNice()).toBe(0);
    } finally {
      await e.close();
    }
  });

  it('sends the signs of one event-loop turn in a message per worker, at most 8 each', async () => {
    const e = createBlsEngine({ threads: 2 });
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const sk = secretKey(10);
    const pk = e.publicKey(sk);
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    try {
      await e.sign(sk, Uint8Array.of(0), dst); // both workers started
      for (const [n, messages] of [
        [2, 2],
        [16, 2],
        [40, 5],
      ] as const) {
        posted.mockClear();
        const msgs = Array.from({ length: n }, (_, i) => Uint8Array.of(n, i));
        const sigs = await Promise.all(msgs.map((m) => e.sign(sk, m, dst)));
        expect(posted, `${n} signs`).toHaveBeenCalledTimes(messages);
        for (const [i, sig] of sigs.entries())
          expect(await e.verify([pk], msgs[i]!, sig, dst)).toBe(true);
        expect(new Set(sigs.map((s) => Buffer.from(s).toString('hex'))).size).toBe(n);
      }
    } finally {
      posted.mockRestore();
      await e.close();
    }
  });

  it('close() terminates the workers and later signs are refused', async () => {
    const e = createBlsEngine({ threads: 1 });
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    await e.sign(secretKey(9), Uint8Array.of(1), dst);
    await e.close();
    await expect(e.sign(secretKey(9), Uint8Array.of(1), dst)).rejects.toThrow(/closed/);
  });

  it('signs a view into a larger buffer like its own copy', async () => {
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    const big = new Uint8Array(4096).fill(9);
    const view = big.subarray(100, 132);
    expect(await engine.sign(secretKey(1), view, dst)).toEqual(
      await engine.sign(secretKey(1), view.slice(), dst),
    );
  });

  it('takes Buffers (views into the shared pool) as they are and leaves them, and the pool, intact', async () => {
    // Buffer#slice is a view, not a copy: an engine that "copied" a key that way and transferred
    // the copy's ArrayBuffer would detach the caller's key (here: the process's Buffer pool).
    const dst = Buffer.from(tagBytes(BLS_TAGS.SIG_NUL));
    const sk = Buffer.from(secretKey(2));
    const neighbour = Buffer.from('bytes that share the pool');
    expect(sk.byteOffset + dst.byteOffset).toBeGreaterThan(0); // pooled, as small Buffers are
    const msg = Buffer.from('a message');
    const first = await engine.sign(sk, msg, dst);
    const second = await engine.sign(sk, msg, dst);
    expect(first).toEqual(nobleSign(secretKey(2), msg, BLS_TAGS.SIG_NUL));
    expect(second).toEqual(first);
    expect(Uint8Array.from(sk)).toEqual(secretKey(2));
    expect(neighbour.toString()).toBe('bytes that share the pool');
    // A Buffer with an ArrayBuffer of its own (as unwrapped secrets are): still the caller's after.
    const own = Buffer.alloc(32);
    own.set(secretKey(2));
    expect(await engine.sign(own, msg, dst)).toEqual(first);
    expect(own.byteLength).toBe(32);
    expect(await engine.sign(own, msg, dst)).toEqual(first);
  });

  it('refuses bad keys and tags before reaching a worker', async () => {
    const dst = tagBytes(BLS_TAGS.SIG_NUL);
    await expect(engine.sign(new Uint8Array(31), Uint8Array.of(1), dst)).rejects.toThrow(
      /privateKey/,
    );
    await expect(engine.sign(secretKey(1), Uint8Array.of(1), new Uint8Array())).rejects.toThrow(
      /dst/,
    );
  });
});

describe('secret key range', () => {
  const r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
  const be = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
  it.each([
    ['zero', 0n, false],
    ['one', 1n, true],
    ['r - 1', r - 1n, true],
    ['r', r, false],
    ['r + 1', r + 1n, false],
    ['2^256 - 1', (1n << 256n) - 1n, false],
  ])('%s', (_name, n, ok) => {
    if (ok) {
      expect(() => assertSecretKey(be(n))).not.toThrow();
      expect(engine.publicKey(be(n))).toEqual(sigs.getPublicKey(be(n)).toBytes(true));
    } else expect(() => assertSecretKey(be(n))).toThrow(/privateKey must be a scalar in 1\.\.r-1/);
  });
});

describe('tags', () => {
  it.each([
    ['SIG_NUL', BLS_TAGS.SIG_NUL],
    ['SIG_POP', BLS_TAGS.SIG_POP],
    ['POP_PROVE', BLS_TAGS.POP_PROVE],
    [BLS_TAGS.SIG_NUL, BLS_TAGS.SIG_NUL],
    [BLS_TAGS.POP_PROVE, BLS_TAGS.POP_PROVE],
  ])('%s resolves', (input, full) => {
    expect(resolveTag(input)).toBe(full);
    expect(resolveDst(input)).toEqual(new TextEncoder().encode(full));
  });

  it.each(['sig_nul', 'NUL', '', 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_', 'toString', 42, null])(
    '%s is refused naming the field',
    (input) => expect(() => resolveTag(input, 'dst')).toThrow(/^dst must be one of/),
  );
});
