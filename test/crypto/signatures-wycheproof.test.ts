/** Wycheproof (C2SP, testvectors_v1) through the software verifiers. */
import { describe, expect, it } from 'vitest';
import { ed25519Verify } from '../../src/crypto/ed25519.js';
import { verifyWith } from '../../src/crypto/signatures.js';
import { hex, readJson, type WycheproofFile, type WycheproofTest } from './vectors.js';

type EcGroup = { publicKey: { uncompressed: string } };
type EdGroup = { publicKey: { pk: string } };

function cases<G>(file: string, key: (g: G) => string): [string, string, WycheproofTest][] {
  const data = readJson<WycheproofFile<G>>('wycheproof', file);
  return data.testGroups.flatMap((g) =>
    g.tests.map((t): [string, string, WycheproofTest] => [`${t.tcId} ${t.comment}`, key(g), t]),
  );
}

describe.each([
  ['secp256k1', 'ecdsa_secp256k1_sha256_p1363_test.json'],
  ['p-256', 'ecdsa_secp256r1_sha256_p1363_test.json'],
] as const)('%s plain ECDSA (P1363)', (curve, file) => {
  const all = cases<EcGroup>(file, (g) => g.publicKey.uncompressed);

  it('covers the file', () => expect(all.length).toBeGreaterThan(250));

  // Plain ECDSA: high-S signatures are valid (the "signature malleability" cases).
  it.each(all)('tc %s', (_name, pk, t) => {
    const valid = verifyWith(
      curve,
      hex(pk),
      { message: hex(t.msg as string) },
      hex(t.sig as string),
    );
    expect(valid).toBe(t.result !== 'invalid');
  });
});

describe('ed25519 (RFC 8032)', () => {
  const all = cases<EdGroup>('ed25519_test.json', (g) => g.publicKey.pk);

  it('covers the file', () => expect(all.length).toBe(151));

  it.each(all)('tc %s', (_name, pk, t) => {
    const valid = ed25519Verify(hex(pk), hex(t.msg as string), hex(t.sig as string));
    expect(valid).toBe(t.result !== 'invalid');
  });
});
