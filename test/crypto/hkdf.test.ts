/** HKDF-Expand through an HMAC callback, against RFC 5869 Appendix A and Wycheproof. */
import { createHmac } from 'node:crypto';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { hkdfExpand, HKDF_SHA256_MAX_LENGTH } from '../../src/crypto/hkdf.js';
import { hex, readJson, rfc5869Cases, type WycheproofFile } from './vectors.js';

const hmacWith = (prk: Uint8Array) => async (data: Uint8Array) =>
  Uint8Array.from(createHmac('sha256', prk).update(data).digest());
const extract = (salt: Uint8Array, ikm: Uint8Array) =>
  Uint8Array.from(createHmac('sha256', salt).update(ikm).digest());

describe('RFC 5869 Appendix A (SHA-256)', () => {
  const tests = rfc5869Cases().filter((t) => t.hash === 'SHA-256');
  it('has A.1-A.3', () => expect(tests.map((t) => t.id)).toEqual(['A.1', 'A.2', 'A.3']));
  it.each(tests.map((t) => [t.id, t] as const))('%s', async (_id, t) => {
    const prk = hex(t.prk);
    expect(extract(t.salt ? hex(t.salt) : new Uint8Array(32), hex(t.ikm))).toEqual(prk);
    expect(await hkdfExpand(hmacWith(prk), hex(t.info), t.L)).toEqual(hex(t.okm));
  });
});

describe('Wycheproof hkdf_sha256', () => {
  type T = { ikm: string; salt: string; info: string; size: number; okm: string };
  const data = readJson<WycheproofFile<object>>('wycheproof', 'hkdf_sha256_test.json');
  const tests = data.testGroups.flatMap((g) => g.tests) as unknown as (T & {
    tcId: number;
    result: string;
  })[];
  it.each(tests.map((t) => [t.tcId, t] as const))('tc %s', async (_id, t) => {
    const salt = t.salt === '' ? new Uint8Array(32) : hex(t.salt);
    const expand = hkdfExpand(hmacWith(extract(salt, hex(t.ikm))), hex(t.info), t.size);
    if (t.result === 'invalid') await expect(expand).rejects.toThrow(/^length must be/);
    else expect(await expand).toEqual(hex(t.okm));
  });
});

describe('hkdfExpand', () => {
  it('matches @noble/hashes expand around block boundaries and at the maximum', async () => {
    const prk = sha256(Uint8Array.of(1));
    const info = new TextEncoder().encode('zoo:experience:v1:');
    for (const L of [1, 31, 32, 33, 64, 65, HKDF_SHA256_MAX_LENGTH]) {
      const ours = await hkdfExpand(hmacWith(prk), info, L);
      const viaNoble = expand(sha256, prk, info, L);
      expect(ours).toEqual(viaNoble);
    }
  });

  it.each([0, -1, 1.5, HKDF_SHA256_MAX_LENGTH + 1])('refuses length %s', async (L) => {
    await expect(hkdfExpand(hmacWith(new Uint8Array(32)), new Uint8Array(), L)).rejects.toThrow(
      /^length/,
    );
  });

  it('wipes every HMAC input and output, also when an HMAC fails partway', async () => {
    const seen: Uint8Array[] = [];
    let calls = 0;
    const failing = async (data: Uint8Array) => {
      seen.push(data);
      if (++calls === 3) throw new Error('device gone');
      const block = new Uint8Array(32).fill(calls);
      seen.push(block);
      return block;
    };
    await expect(hkdfExpand(failing, new Uint8Array([1, 2, 3]), 96)).rejects.toThrow(/gone/);
    expect(seen).toHaveLength(5);
    for (const bytes of seen) expect(bytes.every((b) => b === 0)).toBe(true);
  });

  it('refuses an HMAC that is not 32 bytes', async () => {
    await expect(hkdfExpand(async () => new Uint8Array(20), new Uint8Array(), 32)).rejects.toThrow(
      /32-byte/,
    );
  });
});
