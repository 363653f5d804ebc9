/**
 * The native X25519 given to age-encryption's hybrid KEM (src/crypto/native-x25519.ts). The shim
 * runs where it runs in production, in a plain Node worker (vitest's module runner does not load
 * `data:` modules), wrapping the very @noble/curves module @noble/post-quantum imports. It must
 * agree with noble on every Wycheproof X25519 vector and refuse exactly the all-zero shared secrets
 * noble refuses; and the age workers must actually use it.
 */
import { randomBytes } from 'node:crypto';
import { Decrypter, armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { ageWorkersNativeCrypto, encryptArmored } from '../../src/crypto/age-identity.js';
import { X25519_SHIM_SOURCE } from '../../src/crypto/native-x25519.js';
import { inWorker, nobleUrlInAge, shimUrl } from './age-noble.js';
import { readJson, type WycheproofFile } from './vectors.js';

interface Case {
  tcId: number;
  scalar: string;
  u: string;
  shared?: string;
}
interface Outcome {
  tcId: number;
  native: string; // hex, or 'throws'
  noble: string;
}

/** Runs `cases` through the shim's and noble's scalarMult in a worker; also base and keygen. */
async function runInWorker(
  cases: Case[],
  seeds: string[],
): Promise<{
  outcomes: Outcome[];
  base: [string, string][];
  keygen: [string, string][];
  wiped: string[];
}> {
  // The @noble/curves ed25519 module that age-encryption's @noble/post-quantum imports.
  const realUrl = nobleUrlInAge('@noble/curves/ed25519.js');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { x25519: native } = await import(workerData.shimUrl);
      const { x25519: noble } = await import(workerData.realUrl);
      const hex = (b) => Buffer.from(b).toString('hex');
      const bytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
      const attempt = (f) => { try { return hex(f()); } catch { return 'throws'; } };
      const outcomes = workerData.cases.map((c) => ({
        tcId: c.tcId,
        native: attempt(() => native.scalarMult(bytes(c.scalar), bytes(c.u))),
        noble: attempt(() => noble.scalarMult(bytes(c.scalar), bytes(c.u))),
      }));
      const base = workerData.seeds.map((s) => [hex(native.getPublicKey(bytes(s))), hex(noble.getPublicKey(bytes(s)))]);
      const pair = (kp) => hex(kp.secretKey) + '/' + hex(kp.publicKey);
      const keygen = workerData.seeds.map((s) => [pair(native.keygen(bytes(s))), pair(noble.keygen(bytes(s)))]);
      // The shim derives a key pair's public key when it is first read, which after a wipe of the
      // secret key would be another key's: it must throw.
      const wiped = workerData.seeds.map((s) => {
        const kp = native.keygen(bytes(s));
        kp.secretKey.fill(0);
        return attempt(() => kp.publicKey);
      });
      parentPort.postMessage({ outcomes, base, keygen, wiped, flag: globalThis[Symbol.for('zoo-kms.native-x25519')] === true });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;
  const m = await inWorker<{
    flag: boolean;
    outcomes: Outcome[];
    base: [string, string][];
    keygen: [string, string][];
    wiped: string[];
  }>(source, { shimUrl: shimUrl(X25519_SHIM_SOURCE, realUrl), realUrl, cases, seeds });
  if (!m.flag) throw new Error('the shim did not load');
  return m;
}

describe('native X25519 for the hybrid KEM', () => {
  it('agrees with noble on every Wycheproof X25519 vector, refusing the all-zero shared secrets', async () => {
    const file = readJson<WycheproofFile<{ curve: string }>>('wycheproof', 'x25519_test.json');
    const cases: (Case & { zero: boolean })[] = file.testGroups.flatMap((g) =>
      g.tests.map((t) => {
        const test = t as unknown as {
          tcId: number;
          private: string;
          public: string;
          shared: string;
          flags: string[];
        };
        return {
          tcId: test.tcId,
          scalar: test.private,
          u: test.public,
          shared: test.shared,
          zero: test.flags.includes('ZeroSharedSecret'),
        };
      }),
    );
    expect(cases.length).toBeGreaterThan(500);
    const seeds = Array.from({ length: 64 }, () => randomBytes(32).toString('hex'));
    const { outcomes, base, keygen, wiped } = await runInWorker(cases, seeds);
    const zeros = cases.filter((c) => c.zero).length;
    expect(zeros).toBeGreaterThan(20);
    for (const [i, c] of cases.entries()) {
      const o = outcomes[i]!;
      expect(o.native, `tcId ${c.tcId}`).toBe(o.noble);
      expect(o.native, `tcId ${c.tcId}`).toBe(c.zero ? 'throws' : c.shared);
    }
    for (const [native, noble] of [...base, ...keygen]) expect(native).toBe(noble);
    expect(wiped).toEqual(seeds.map(() => 'throws'));
    // Wrong lengths are refused, not truncated or padded.
    const short = await runInWorker(
      [{ tcId: 0, scalar: '01'.repeat(31), u: '09'.padEnd(64, '0') }],
      [],
    );
    expect(short.outcomes[0]).toEqual({ tcId: 0, native: 'throws', noble: 'throws' });
  });

  it('is what the age workers encrypt with, and their hybrid files decrypt with pure-JavaScript age', async () => {
    expect((await ageWorkersNativeCrypto()).x25519).toBe(true);
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    const plaintext = randomBytes(64);
    const armored = await encryptArmored('wrapTo', recipient, plaintext);
    const d = new Decrypter();
    d.addIdentity(identity);
    expect(Buffer.from(await d.decrypt(armor.decode(armored)))).toEqual(plaintext);
  });
});
