/**
 * The KeyProvider contract (src/providers/provider.ts), run against every provider in subjects.ts.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  IntegrityError,
  ProviderRefusedError,
  ProviderUnavailableError,
  type Algorithm,
  type DeviceSignAlgorithm,
  type KeyProvider,
  type SecretRef,
} from '../../src/providers/provider.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { allSubjects } from './subjects.js';

const subjects = allSubjects();
afterAll(async () => {
  await Promise.all(subjects.map((s) => s.cleanup()));
  cleanupTestSoftHsm();
});

const CURVES = { 'p-256': p256, secp256k1 } as const;

/** A valid private key for `algorithm` in the API's encoding (API.md "Private keys"). */
function secretFor(algorithm: Algorithm): Uint8Array {
  if (algorithm === 'p-256' || algorithm === 'secp256k1')
    return CURVES[algorithm].utils.randomSecretKey();
  return new Uint8Array(randomBytes(32));
}

let counter = 0;
async function refFor(
  p: KeyProvider,
  algorithm: Algorithm,
  secret: Uint8Array,
): Promise<SecretRef> {
  return { id: `contract-${++counter}:1`, algorithm, wrapped: await p.wrap(algorithm, secret) };
}

function nodeGcm(key: Uint8Array, iv: Uint8Array, pt: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

describe.each(subjects)('KeyProvider contract: $name', (subject) => {
  const caps = subject.capabilities;
  let p: KeyProvider;
  beforeAll(async () => {
    p = await subject.make();
  });

  describe('wrap / unwrap', () => {
    it.each(ALGORITHMS)('round-trips a %s key', async (algorithm) => {
      const secret = secretFor(algorithm);
      const wrapped = await p.wrap(algorithm, secret);
      expect(Buffer.from(wrapped).includes(Buffer.from(secret))).toBe(false);
      const back = await p.unwrap(algorithm, wrapped);
      expect(back).toEqual(secret);
      back.fill(0);
      expect(await p.unwrap(algorithm, wrapped)).toEqual(secret);
    });

    it('refuses secrets of the wrong size', async () => {
      await expect(p.wrap('aes-256-gcm', new Uint8Array(16))).rejects.toBeInstanceOf(
        ProviderRefusedError,
      );
      await expect(p.wrap('p-256', new Uint8Array(31).fill(1))).rejects.toBeInstanceOf(
        ProviderRefusedError,
      );
      await expect(p.wrap('hmac-sha256', new Uint8Array(0))).rejects.toBeInstanceOf(
        ProviderRefusedError,
      );
    });

    it('throws IntegrityError for a tampered, truncated or foreign blob', async () => {
      const wrapped = await p.wrap('hmac-sha256', randomBytes(32));
      for (const i of [0, 7, 8, wrapped.length - 1]) {
        const bad = Uint8Array.from(wrapped);
        bad[i]! ^= 0x01;
        await expect(p.unwrap('hmac-sha256', bad), `byte ${i}`).rejects.toBeInstanceOf(
          IntegrityError,
        );
      }
      await expect(p.unwrap('hmac-sha256', wrapped.subarray(0, 32))).rejects.toBeInstanceOf(
        IntegrityError,
      );
      await expect(p.unwrap('hmac-sha256', wrapped.subarray(0, 21))).rejects.toBeInstanceOf(
        IntegrityError,
      );
      const other = await subject.make();
      await expect(other.unwrap('hmac-sha256', wrapped)).rejects.toBeInstanceOf(IntegrityError);
    });
  });

  it('declares the capabilities documented for it', () => {
    expect(p.capabilities).toEqual(subject.capabilities);
  });

  if (caps.hmac)
    describe('hmacSha256', () => {
      it('matches HMAC-SHA256 in node for empty, short and 1 MiB inputs', async () => {
        const key = randomBytes(32);
        const ref = await refFor(p, 'hmac-sha256', key);
        for (const data of [new Uint8Array(0), randomBytes(13), randomBytes(1 << 20)]) {
          expect(await p.hmacSha256(ref, data)).toEqual(
            new Uint8Array(createHmac('sha256', key).update(data).digest()),
          );
        }
      });
    });

  if (caps.aesGcm)
    describe('AES-256-GCM', () => {
      const key = randomBytes(32);
      let ref: SecretRef;
      beforeAll(async () => {
        ref = await refFor(p, 'aes-256-gcm', key);
      });

      it('encrypts like node and decrypts its own output', async () => {
        for (const size of [0, 1, 1024]) {
          const iv = randomBytes(12);
          const pt = randomBytes(size);
          const aad = randomBytes(size % 7);
          const sealed = await p.aesGcmEncrypt(ref, iv, pt, aad);
          expect(sealed).toEqual(new Uint8Array(nodeGcm(key, iv, pt, aad)));
          expect(await p.aesGcmDecrypt(ref, iv, sealed, aad)).toEqual(new Uint8Array(pt));
        }
      });

      it('throws IntegrityError for a bad tag, ciphertext, AAD or IV, and for a too-short input', async () => {
        const iv = randomBytes(12);
        const sealed = await p.aesGcmEncrypt(
          ref,
          iv,
          Buffer.from('attack at dawn'),
          Buffer.from('ctx'),
        );
        const flip = (i: number): Uint8Array => {
          const b = Uint8Array.from(sealed);
          b[i]! ^= 0x80;
          return b;
        };
        await expect(
          p.aesGcmDecrypt(ref, iv, flip(sealed.length - 1), Buffer.from('ctx')),
        ).rejects.toBeInstanceOf(IntegrityError);
        await expect(p.aesGcmDecrypt(ref, iv, flip(0), Buffer.from('ctx'))).rejects.toBeInstanceOf(
          IntegrityError,
        );
        await expect(p.aesGcmDecrypt(ref, iv, sealed, Buffer.from('ctX'))).rejects.toBeInstanceOf(
          IntegrityError,
        );
        await expect(
          p.aesGcmDecrypt(ref, randomBytes(12), sealed, Buffer.from('ctx')),
        ).rejects.toBeInstanceOf(IntegrityError);
        await expect(
          p.aesGcmDecrypt(ref, iv, sealed.subarray(0, 15), Buffer.from('ctx')),
        ).rejects.toBeInstanceOf(IntegrityError);
        // The key still works after the failures.
        expect(await p.aesGcmDecrypt(ref, iv, sealed, Buffer.from('ctx'))).toEqual(
          new Uint8Array(Buffer.from('attack at dawn')),
        );
      });

      it.each([0, 8, 11, 13, 16])('refuses a %d-byte IV', async (n) => {
        const iv = new Uint8Array(n);
        await expect(
          p.aesGcmEncrypt(ref, iv, new Uint8Array(4), new Uint8Array(0)),
        ).rejects.toBeInstanceOf(ProviderRefusedError);
        await expect(
          p.aesGcmDecrypt(ref, iv, new Uint8Array(20), new Uint8Array(0)),
        ).rejects.toBeInstanceOf(ProviderRefusedError);
      });
    });

  if (!caps.hmac || !caps.aesGcm)
    it('refuses HMAC and AES-GCM when it does not declare them, whatever the input', async () => {
      const aes = await refFor(p, 'aes-256-gcm', randomBytes(32));
      const mac = await refFor(p, 'hmac-sha256', randomBytes(32));
      const iv = randomBytes(12);
      const refusals = [
        ...(caps.hmac ? [] : [() => p.hmacSha256(mac, new Uint8Array(1))]),
        ...(caps.aesGcm
          ? []
          : [
              () => p.aesGcmEncrypt(aes, iv, new Uint8Array(4), new Uint8Array(0)),
              () => p.aesGcmDecrypt(aes, iv, new Uint8Array(20), new Uint8Array(0)),
            ]),
      ];
      for (const r of refusals) await expect(r()).rejects.toBeInstanceOf(ProviderRefusedError);
    });

  describe('sign', () => {
    const curvesOf = (): DeviceSignAlgorithm[] => [...p.capabilities.sign];

    it('signs inside the provider for every algorithm it declares, verified with @noble/curves', async () => {
      for (const algorithm of curvesOf()) {
        const secret = secretFor(algorithm);
        const ref = await refFor(p, algorithm, secret);
        for (let i = 0; i < 16; i++) {
          const msg = randomBytes(40);
          if (algorithm === 'ed25519') {
            const sig = await p.sign(ref, msg);
            expect(ed25519.verify(sig, msg, ed25519.getPublicKey(secret))).toBe(true);
          } else {
            const curve = CURVES[algorithm];
            const sig = await p.sign(ref, sha256(msg));
            expect(sig).toHaveLength(64);
            // Devices return high-S about half the time (ARCHITECTURE.md "Known PKCS#11 facts").
            const ok = curve.verify(sig, sha256(msg), curve.getPublicKey(secret), {
              lowS: false,
              prehash: false,
            });
            expect(ok).toBe(true);
          }
        }
      }
    });

    it('refuses algorithms it does not declare, and ECDSA input that is not a 32-byte digest', async () => {
      for (const algorithm of ['p-256', 'secp256k1', 'ed25519', 'bls12-381'] as const) {
        if ((p.capabilities.sign as readonly string[]).includes(algorithm)) continue;
        const ref = await refFor(p, algorithm, secretFor(algorithm));
        await expect(p.sign(ref, new Uint8Array(32))).rejects.toBeInstanceOf(ProviderRefusedError);
      }
      const ecdsa = curvesOf().find((a) => a !== 'ed25519');
      if (!ecdsa) return;
      const ref = await refFor(p, ecdsa, secretFor(ecdsa));
      await expect(p.sign(ref, new Uint8Array(31))).rejects.toBeInstanceOf(ProviderRefusedError);
    });
  });

  const damage = subject.damageAnswers;
  if (damage)
    it('rejects an answer whose integrity check fails (a wrong CRC32C) and never returns it', async () => {
      await damage(true);
      try {
        await expect(p.wrap('hmac-sha256', randomBytes(32))).rejects.toBeInstanceOf(
          ProviderUnavailableError,
        );
        await expect(p.health()).rejects.toBeInstanceOf(ProviderUnavailableError);
      } finally {
        await damage(false);
      }
      await expect(p.health()).resolves.toBeUndefined();
    });

  it('health() runs a canary and resolves', async () => {
    await expect(p.health()).resolves.toBeUndefined();
  });

  if (caps.hmac)
    it('forget() drops cached objects by id prefix, and the keys still work afterwards', async () => {
      const key = randomBytes(32);
      const mine = {
        id: 'forget-me:1',
        algorithm: 'hmac-sha256' as const,
        wrapped: await p.wrap('hmac-sha256', key),
      };
      const kept = { id: 'keep-me:1', algorithm: 'hmac-sha256' as const, wrapped: mine.wrapped };
      const expected = new Uint8Array(createHmac('sha256', key).update('x').digest());
      expect(await p.hmacSha256(mine, Buffer.from('x'))).toEqual(expected);
      expect(await p.hmacSha256(kept, Buffer.from('x'))).toEqual(expected);
      const before = subject.cachedKeys?.(p);
      p.forget('forget-me:');
      if (before !== undefined) expect(subject.cachedKeys?.(p)).toBe(before - 1);
      p.forget('no-such-prefix');
      if (before !== undefined) expect(subject.cachedKeys?.(p)).toBe(before - 1);
      expect(await p.hmacSha256(mine, Buffer.from('x'))).toEqual(expected);
    });

  it('answers many concurrent operations correctly', async () => {
    const key = randomBytes(32);
    const hmacRef = await refFor(p, 'hmac-sha256', key);
    const aesRef = await refFor(p, 'aes-256-gcm', key);
    const kinds = [...(caps.hmac ? ['hmac'] : []), ...(caps.aesGcm ? ['aes'] : []), 'wrap'];
    const jobs = Array.from({ length: 300 }, async (_, i) => {
      const data = Buffer.from(`job ${i}`);
      const kind = kinds[i % kinds.length];
      if (kind === 'hmac')
        return expect(await p.hmacSha256(hmacRef, data)).toEqual(
          new Uint8Array(createHmac('sha256', key).update(data).digest()),
        );
      if (kind === 'aes') {
        const iv = randomBytes(12);
        return expect(
          await p.aesGcmDecrypt(aesRef, iv, await p.aesGcmEncrypt(aesRef, iv, data, data), data),
        ).toEqual(new Uint8Array(data));
      }
      const secret = randomBytes(32);
      return expect(await p.unwrap('bls12-381', await p.wrap('bls12-381', secret))).toEqual(
        new Uint8Array(secret),
      );
    });
    await Promise.all(jobs);
  });

  it('is unavailable after close() and usable again after open()', async () => {
    const q = await subject.make();
    const secret = randomBytes(32);
    const wrapped = await q.wrap('hmac-sha256', secret);
    await q.close();
    await expect(q.unwrap('hmac-sha256', wrapped)).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(q.health()).rejects.toBeInstanceOf(ProviderUnavailableError);
    await q.open();
    expect(await q.unwrap('hmac-sha256', wrapped)).toEqual(new Uint8Array(secret));
    if (caps.hmac) {
      const ref = { id: 'reopened:1', algorithm: 'hmac-sha256' as const, wrapped };
      await expect(q.hmacSha256(ref, new Uint8Array(1))).resolves.toHaveLength(32);
    }
  });
});
