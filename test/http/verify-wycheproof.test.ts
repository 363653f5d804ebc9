/**
 * Issue 11: the Wycheproof vectors (C2SP, testvectors_v1) of the algorithms of `POST /v1/verify`,
 * answered through the HTTP route exactly as their `result` says: ECDSA secp256k1 and P-256 in
 * r||s (P1363) form, and Ed25519. Plain ECDSA accepts high-S; with `lowS: true` a high-S signature
 * is invalid too. Malformed signatures (wrong length, r or s out of range) and empty messages are
 * well-formed requests (API.md "Keys"): 200 `{valid: false}` or as the scheme says, never a 400.
 * The caller is a validator token: any valid token may verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { readJson, type WycheproofFile, type WycheproofTest } from '../crypto/vectors.js';

const ORDER = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'p-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
} as const;

let t: TestKms;
let token: string;

beforeAll(async () => {
  t = await startKms({ tokenLabel: 'wycheproof' });
  token = await principalToken(t, 'verifier', 'validator', ['none']);
}, 120_000);
afterAll(async () => {
  await t?.close();
});

interface Case {
  readonly tcId: number;
  readonly publicKey: string;
  readonly test: WycheproofTest;
}

function cases<G>(file: string, key: (g: G) => string): Case[] {
  const data = readJson<WycheproofFile<G>>('wycheproof', file);
  return data.testGroups.flatMap((g) =>
    g.tests.map((test) => ({ tcId: test.tcId, publicKey: key(g), test })),
  );
}

/** Every case through the route; returns the ones answered otherwise than `expected` says. */
async function mismatches(
  algorithm: string,
  all: Case[],
  expected: (c: Case) => boolean,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const wrong: string[] = [];
  for (const c of all) {
    const r = await t.call('POST', '/v1/verify', {
      token,
      body: {
        algorithm,
        publicKey: `0x${c.publicKey}`,
        message: Buffer.from(c.test.msg as string, 'hex').toString('base64'),
        signature: `0x${c.test.sig as string}`,
        ...extra,
      },
    });
    const want = expected(c);
    if (r.status !== 200 || r.body.valid !== want)
      wrong.push(
        `tc ${c.tcId} (${c.test.comment}): ${r.status} ${JSON.stringify(r.body)}, want ${want}`,
      );
  }
  return wrong;
}

/** s of an r||s signature is above n/2 (a signature that only plain ECDSA accepts). */
function highS(sig: string, n: bigint): boolean {
  return sig.length === 128 && BigInt(`0x${sig.slice(64)}`) > n / 2n;
}

describe.each([
  ['secp256k1', 'ecdsa_secp256k1_sha256_p1363_test.json'],
  ['p-256', 'ecdsa_secp256r1_sha256_p1363_test.json'],
] as const)('POST /v1/verify, %s: Wycheproof %s', (curve, file) => {
  const all = cases<{ publicKey: { uncompressed: string } }>(file, (g) => g.publicKey.uncompressed);

  it('plain ECDSA: valid exactly when the result is valid (high-S accepted)', async () => {
    expect(all.length).toBeGreaterThan(250);
    expect(
      all.some((c) => c.test.result === 'valid' && highS(c.test.sig as string, ORDER[curve])),
    ).toBe(true);
    expect(await mismatches(curve, all, (c) => c.test.result === 'valid')).toEqual([]);
  }, 120_000);

  it('lowS: true: valid exactly when the result is valid and s <= n/2', async () => {
    const want = (c: Case) =>
      c.test.result === 'valid' && !highS(c.test.sig as string, ORDER[curve]);
    expect(await mismatches(curve, all, want, { lowS: true })).toEqual([]);
  }, 120_000);
});

describe('POST /v1/verify, ed25519: Wycheproof ed25519_test.json', () => {
  it('valid exactly when the result is valid', async () => {
    const all = cases<{ publicKey: { pk: string } }>('ed25519_test.json', (g) => g.publicKey.pk);
    expect(all).toHaveLength(151);
    expect(await mismatches('ed25519', all, (c) => c.test.result === 'valid')).toEqual([]);
  }, 120_000);
});
