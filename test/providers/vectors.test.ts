/**
 * Published vectors through every provider: Wycheproof AES-KWP (RFC 5649) through wrap/unwrap under
 * the vector's key as root, and Wycheproof HMAC-SHA256, Wycheproof HKDF-SHA256 and RFC 5869 through
 * hmacSha256 (HKDF-Extract is HMAC(salt, ikm), HKDF-Expand is T(i) = HMAC(PRK, T(i-1) || info || i),
 * RFC 5869 sec. 2.2-2.3). Inputs a provider documents as refused must be refused with
 * ProviderRefusedError, never answered wrongly, and are then checked on the software provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IntegrityError,
  ProviderRefusedError,
  type KeyProvider,
} from '../../src/providers/provider.js';
import {
  hex,
  readJson,
  rfc5869Cases,
  type WycheproofFile,
  type WycheproofTest,
} from '../crypto/vectors.js';
import { cleanupTestSoftHsm } from '../support/softhsm.js';
import { allSubjects, softwareSubject, type ProviderSubject } from './subjects.js';

interface KwpTest extends WycheproofTest {
  key: string;
  msg: string;
  ct: string;
}
interface MacTest extends WycheproofTest {
  key: string;
  msg: string;
  tag: string;
}
interface HkdfTest extends WycheproofTest {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}
const kwp = readJson<WycheproofFile<{ keySize: number }>>('wycheproof', 'aes_kwp_test.json');
const mac = readJson<WycheproofFile<{ keySize: number; tagSize: number }>>(
  'wycheproof',
  'hmac_sha256_test.json',
);
const hkdf = readJson<WycheproofFile<{ keySize: number }>>('wycheproof', 'hkdf_sha256_test.json');
const rfc5869 = { tests: rfc5869Cases() };

const subjects = allSubjects();
const fallback = softwareSubject();
let software: KeyProvider;
beforeAll(async () => {
  software = await fallback.make();
});
afterAll(async () => {
  await Promise.all([...subjects, fallback].map((s) => s.cleanup()));
  cleanupTestSoftHsm();
});

let refs = 0;
/** HMAC-SHA256(key, data) inside `p`: wrap the key, run, forget its cached object. */
async function hmacIn(p: KeyProvider, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const id = `vector-${++refs}:1`;
  const ref = { id, algorithm: 'hmac-sha256' as const, wrapped: await p.wrap('hmac-sha256', key) };
  try {
    return await p.hmacSha256(ref, data);
  } finally {
    p.forget(id);
  }
}

/** HMAC in `subject`'s provider, or, when it documents the key as refused, check that and use software. */
async function hmacOrFallback(
  subject: ProviderSubject,
  p: KeyProvider,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  if (!subject.refusesHmacKeyOf(key.length)) return hmacIn(p, key, data);
  await expect(hmacIn(p, key, data)).rejects.toBeInstanceOf(ProviderRefusedError);
  return hmacIn(software, key, data);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** HKDF-Expand (RFC 5869 sec. 2.3) with every HMAC inside `p`, keyed by the wrapped PRK. */
async function expand(
  p: KeyProvider,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  if (length > 255 * 32) throw new RangeError('L must be at most 255 * HashLen');
  const id = `prk-${++refs}:1`;
  const ref = { id, algorithm: 'hmac-sha256' as const, wrapped: await p.wrap('hmac-sha256', prk) };
  const blocks: Uint8Array[] = [];
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    t = await p.hmacSha256(ref, concat(t, info, Uint8Array.of(i)));
    blocks.push(t);
  }
  p.forget(id);
  return concat(...blocks).slice(0, length);
}

/** An absent or empty salt is HashLen zeros (RFC 5869 sec. 2.2); HMAC pads short keys with zeros anyway. */
const saltKey = (salt: Uint8Array): Uint8Array => (salt.length > 0 ? salt : new Uint8Array(32));

/** Subjects with a root key of given bytes (RFC 5649) or an in-provider HMAC; not Cloud KMS. */
const withVectors = subjects.filter((s) => s.withRootKey !== undefined || s.capabilities.hmac);

describe.each(withVectors)('vectors through $name', (subject) => {
  let p: KeyProvider;
  beforeAll(async () => {
    p = await subject.make();
  });

  const withRootKey = subject.withRootKey;
  if (withRootKey)
    describe.each(kwp.testGroups)('Wycheproof aes_kwp_test, $keySize-bit root key', (group) => {
      const tests = group.tests as KwpTest[];
      if (!subject.rootKeySizes.includes(group.keySize / 8)) {
        it('cannot hold a root key of this size and says so at open()', async () => {
          await expect(withRootKey(hex(tests[0]!.key))).rejects.toThrow(/root key/);
        });
        return;
      }
      it.each(tests)('tcId $tcId ($result): $comment', async (t) => {
        const root = await withRootKey(hex(t.key));
        const [msg, ct] = [hex(t.msg), hex(t.ct)];
        if (t.result === 'invalid') {
          await expect(root.unwrap('hmac-sha256', ct)).rejects.toBeInstanceOf(IntegrityError);
          return;
        }
        expect(await root.unwrap('hmac-sha256', ct)).toEqual(msg);
        if (subject.refusesWrapOf(msg.length)) {
          await expect(root.wrap('hmac-sha256', msg)).rejects.toBeInstanceOf(ProviderRefusedError);
        } else {
          expect(await root.wrap('hmac-sha256', msg)).toEqual(ct);
        }
      });
    });

  if (!subject.capabilities.hmac) return;

  describe.each(mac.testGroups)(
    'Wycheproof hmac_sha256_test, $keySize-bit key, $tagSize-bit tag',
    (group) => {
      it.each(group.tests as MacTest[])('tcId $tcId ($result): $comment', async (t) => {
        const tag = hex(t.tag);
        const full = await hmacOrFallback(subject, p, hex(t.key), hex(t.msg));
        // Truncated tags are the leading bytes (RFC 2104 sec. 5).
        const same = Buffer.from(full.subarray(0, group.tagSize / 8)).equals(Buffer.from(tag));
        expect(same).toBe(t.result === 'valid');
      });
    },
  );

  describe.each(hkdf.testGroups)('Wycheproof hkdf_sha256_test, $keySize-bit IKM', (group) => {
    it.each(group.tests as HkdfTest[])('tcId $tcId ($result): $comment', async (t) => {
      const prk = await hmacOrFallback(subject, p, saltKey(hex(t.salt)), hex(t.ikm));
      if (t.result === 'invalid') {
        await expect(expand(p, prk, hex(t.info), t.size)).rejects.toBeInstanceOf(RangeError);
        return;
      }
      expect(await expand(p, prk, hex(t.info), t.size)).toEqual(hex(t.okm));
    });
  });

  const sha256Cases = rfc5869.tests.filter((t) => t.hash === 'SHA-256');
  it.each(sha256Cases)('RFC 5869 $id: PRK and OKM', async (t) => {
    const prk = await hmacOrFallback(subject, p, saltKey(hex(t.salt ?? '')), hex(t.ikm));
    expect(prk).toEqual(hex(t.prk));
    expect(await expand(p, prk, hex(t.info), t.L)).toEqual(hex(t.okm));
  });
});
