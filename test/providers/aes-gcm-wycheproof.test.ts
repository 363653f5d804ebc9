/**
 * Wycheproof AES-GCM (256-bit keys, 96-bit IVs, 128-bit tags), invalid cases included, through the
 * primitives envelope encryption uses (src/services/envelope.ts): a provider's in-device
 * aesGcmEncrypt/aesGcmDecrypt on a wrapped key (SoftHSM2, and the software provider), and the
 * software AEAD used when no provider can. Other IV sizes are refused by our code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesGcmOpen, aesGcmSeal } from '../../src/crypto/aead.js';
import {
  IntegrityError,
  ProviderRefusedError,
  type KeyProvider,
  type SecretRef,
} from '../../src/providers/provider.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { hex, readJson, type WycheproofFile, type WycheproofTest } from '../crypto/vectors.js';
import { allSubjects } from './subjects.js';

type G = { keySize: number; ivSize: number; tagSize: number };
const data = readJson<WycheproofFile<G>>('wycheproof', 'aes_gcm_test.json');
const groups256 = data.testGroups.filter((g) => g.keySize === 256 && g.tagSize === 128);
const vectors = groups256.filter((g) => g.ivSize === 96).flatMap((g) => g.tests);
const otherIvs = groups256.filter((g) => g.ivSize !== 96).flatMap((g) => g.tests);

interface Case {
  key: Uint8Array;
  iv: Uint8Array;
  aad: Uint8Array;
  msg: Uint8Array;
  sealed: Uint8Array;
}

function caseOf(t: WycheproofTest): Case {
  const f = (k: string) => hex(t[k] as string);
  return {
    key: f('key'),
    iv: f('iv'),
    aad: f('aad'),
    msg: f('msg'),
    sealed: Uint8Array.of(...f('ct'), ...f('tag')),
  };
}

const named = (tests: WycheproofTest[]) => tests.map((t) => [`${t.tcId} ${t.comment}`, t] as const);

it('the selection has valid and invalid vectors, and other IV sizes', () => {
  expect(vectors.filter((t) => t.result === 'valid').length).toBeGreaterThan(30);
  expect(vectors.filter((t) => t.result === 'invalid').length).toBeGreaterThan(20);
  expect(new Set(groups256.map((g) => g.ivSize)).size).toBeGreaterThan(5);
  expect(otherIvs.some((t) => (t.iv as string).length === 0)).toBe(true);
});

describe('software AEAD (src/crypto/aead.ts)', () => {
  it.each(named(vectors))('tc %s', (_n, t) => {
    const c = caseOf(t);
    if (t.result === 'invalid') {
      expect(() => aesGcmOpen(c.key, c.iv, c.sealed, c.aad)).toThrow(IntegrityError);
      return;
    }
    expect(aesGcmSeal(c.key, c.iv, c.msg, c.aad)).toEqual(c.sealed);
    expect(aesGcmOpen(c.key, c.iv, c.sealed, c.aad)).toEqual(c.msg);
  });

  it.each(named(otherIvs))('refuses the IV of tc %s', (_n, t) => {
    const c = caseOf(t);
    expect(() => aesGcmSeal(c.key, c.iv, c.msg, c.aad)).toThrow(/IV must be 12 bytes/);
    expect(() => aesGcmOpen(c.key, c.iv, c.sealed, c.aad)).toThrow(/IV must be 12 bytes/);
  });
});

const subjects = allSubjects();
afterAll(async () => {
  await Promise.all(subjects.map((s) => s.cleanup()));
  cleanupTestSoftHsm();
});

describe.each(subjects.filter((s) => s.capabilities.aesGcm))(
  'in-provider AES-256-GCM: $name',
  (subject) => {
    let p: KeyProvider;
    let n = 0;
    beforeAll(async () => {
      p = await subject.make();
      expect(p.capabilities.aesGcm).toBe(true);
    });

    /** The vector key wrapped by the provider, as the keyring hands it over (SecretRef). */
    const refOf = async (key: Uint8Array): Promise<SecretRef> => ({
      id: `wycheproof-${++n}:1`,
      algorithm: 'aes-256-gcm',
      wrapped: await p.wrap('aes-256-gcm', key),
    });

    it.each(named(vectors))('tc %s', async (_n, t) => {
      const c = caseOf(t);
      const ref = await refOf(c.key);
      if (t.result === 'invalid') {
        await expect(p.aesGcmDecrypt(ref, c.iv, c.sealed, c.aad)).rejects.toThrow(IntegrityError);
        return;
      }
      expect(await p.aesGcmEncrypt(ref, c.iv, c.msg, c.aad)).toEqual(c.sealed);
      expect(await p.aesGcmDecrypt(ref, c.iv, c.sealed, c.aad)).toEqual(c.msg);
    });

    it.each(named(otherIvs))('refuses the IV of tc %s', async (_n, t) => {
      const c = caseOf(t);
      const ref = await refOf(c.key);
      await expect(p.aesGcmEncrypt(ref, c.iv, c.msg, c.aad)).rejects.toThrow(ProviderRefusedError);
      await expect(p.aesGcmDecrypt(ref, c.iv, c.sealed, c.aad)).rejects.toThrow(
        ProviderRefusedError,
      );
    });
  },
);
