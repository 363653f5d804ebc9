/**
 * age identities from seeds: the C2SP CCTV age vectors (../shared/vectors/cctv-age) that name an
 * X25519 or hybrid identity and must decrypt: our parsing, re-encoding and recipient derivation
 * agree with age-encryption on every one; plus round-trip properties and the recipient checks.
 */
import { createHash } from 'node:crypto';
import {
  Decrypter,
  Encrypter,
  armor,
  generateHybridIdentity,
  generateX25519Identity,
  identityToRecipient,
} from 'age-encryption';
import { bech32 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeIdentity,
  encodeIdentity,
  encryptArmored,
  identityBytes,
  recipientForm,
  recipientOf,
  type AgeKind,
} from '../../src/crypto/age-identity.js';
import { isKmsError } from '../../src/errors.js';
import { ageFile, cctvAgeVectors } from '../crypto/cctv-age.js';

const vectors = cctvAgeVectors().filter(
  (v) =>
    v.headers.get('expect')?.[0] === 'success' &&
    (v.headers.get('identity') ?? []).some((i) => /^AGE-SECRET-KEY-(PQ-)?1/.test(i)),
);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('CCTV age vectors', () => {
  it('has X25519 and hybrid success vectors to check', () => {
    const kinds = vectors.flatMap((v) =>
      v.headers.get('identity')!.map((i) => decodeIdentity(i).kind),
    );
    expect(kinds.filter((k) => k === 'x25519').length).toBeGreaterThanOrEqual(15);
    expect(kinds.filter((k) => k === 'mlkem768x25519').length).toBeGreaterThanOrEqual(5);
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: re-encoded identity decrypts, recipient matches',
    async (_name, v) => {
      const decrypter = new Decrypter();
      for (const identity of v.headers.get('identity')!) {
        const { kind, seed } = decodeIdentity(identity);
        expect(kind).toBe(identity.startsWith('AGE-SECRET-KEY-PQ-1') ? 'mlkem768x25519' : 'x25519');
        expect(encodeIdentity(kind, seed)).toBe(identity);
        expect(await recipientOf(kind, seed)).toBe(await identityToRecipient(identity));
        decrypter.addIdentity(encodeIdentity(kind, seed));
      }
      expect(sha256(await decrypter.decrypt(ageFile(v)))).toBe(v.headers.get('payload')![0]);
    },
  );

  it.each(vectors.map((v) => [v.name, v] as const))(
    '%s: a file to our recipient decrypts with the vector identity',
    async (_name, v) => {
      const identity = v.headers.get('identity')![0]!;
      const { kind, seed } = decodeIdentity(identity);
      const e = new Encrypter();
      e.addRecipient(await recipientOf(kind, seed));
      const d = new Decrypter();
      d.addIdentity(identity);
      expect(await d.decrypt(await e.encrypt('restore me'), 'text')).toBe('restore me');
    },
  );
});

describe('identity encoding', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const kind = fc.constantFrom<AgeKind>('mlkem768x25519', 'x25519');

  it('round-trips every seed, upper case, with the HRP of its kind', () => {
    fc.assert(
      fc.property(kind, seed, (k, s) => {
        const id = encodeIdentity(k, s);
        expect(id).toMatch(
          k === 'x25519' ? /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/ : /^AGE-SECRET-KEY-PQ-1[0-9A-Z]{58}$/,
        );
        const back = decodeIdentity(id);
        expect(back.kind).toBe(k);
        expect(Buffer.from(back.seed).equals(Buffer.from(s))).toBe(true);
      }),
    );
  });

  it('agrees with the identities age-encryption generates', async () => {
    for (const id of [await generateHybridIdentity(), await generateX25519Identity()]) {
      const { kind, seed } = decodeIdentity(id);
      expect(encodeIdentity(kind, seed)).toBe(id);
    }
  });

  it("writes @scure/base's bech32 as bytes, for every seed and the CCTV identities", () => {
    const ascii = (s: string) => Buffer.from(s, 'latin1');
    // The codec age-encryption itself uses, upper-cased as age writes identities.
    const scure = (k: AgeKind, s: Uint8Array) =>
      bech32
        .encodeFromBytes(k === 'x25519' ? 'AGE-SECRET-KEY-' : 'AGE-SECRET-KEY-PQ-', s)
        .toUpperCase();
    fc.assert(
      fc.property(kind, seed, (k, s) => {
        expect(Buffer.from(identityBytes(k, s)).equals(ascii(scure(k, s)))).toBe(true);
        expect(encodeIdentity(k, s)).toBe(scure(k, s));
      }),
      { numRuns: 500 },
    );
    for (const k of ['mlkem768x25519', 'x25519'] as const) {
      for (const fill of [0, 0xff]) {
        const s = new Uint8Array(32).fill(fill);
        expect(Buffer.from(identityBytes(k, s)).toString('latin1')).toBe(scure(k, s));
      }
    }
    const identities = vectors.flatMap((v) => v.headers.get('identity')!);
    expect(identities.length).toBeGreaterThan(5);
    for (const id of identities) {
      const { kind: k, seed: s } = decodeIdentity(id);
      expect(Buffer.from(identityBytes(k, s)).toString('latin1')).toBe(id);
    }
    expect(() => identityBytes('x25519', new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('refuses what is not a native identity of 32 bytes', () => {
    const good = encodeIdentity('x25519', new Uint8Array(32).fill(1));
    const short = bech32.encodeFromBytes('AGE-SECRET-KEY-', new Uint8Array(31)).toUpperCase();
    const flipped = good.slice(0, -1) + (good.endsWith('Q') ? 'P' : 'Q');
    for (const bad of [good.toLowerCase(), short, flipped, 'AGE-PLUGIN-X-1QQQQ', ''])
      expect(() => decodeIdentity(bad), bad).toThrow();
    expect(() => encodeIdentity('x25519', new Uint8Array(31))).toThrow(/32 bytes/);
  });
});

/** A 400 whose message names `wrapTo`. */
const refusesWrapTo = (err: unknown) =>
  isKmsError(err) && err.status === 400 && err.message.startsWith('wrapTo ');

describe('recipients', () => {
  it('takes hybrid and X25519 recipients by their form and names the field otherwise', async () => {
    const pq = await identityToRecipient(await generateHybridIdentity());
    const x = await identityToRecipient(await generateX25519Identity());
    expect(recipientForm('wrapTo', pq)).toBe('mlkem768x25519');
    expect(recipientForm('wrapTo', x)).toBe('x25519');
    const tag = bech32.encodeFromBytes('age1tag', new Uint8Array(33));
    const bad = [
      x.toUpperCase(),
      pq.slice(0, 500),
      pq + 'q',
      x.slice(0, -1),
      x.slice(0, -1) + 'b',
      tag,
      'age1',
      '',
      await generateX25519Identity(),
    ];
    for (const b of bad) {
      let err: unknown;
      try {
        recipientForm('wrapTo', b);
      } catch (e) {
        err = e;
      }
      expect(refusesWrapTo(err), b).toBe(true);
    }
  });

  it('refuses a recipient of the right form with a wrong checksum when encrypting, with 400', async () => {
    const pq = await identityToRecipient(await generateHybridIdentity());
    const x = await identityToRecipient(await generateX25519Identity());
    const flip = (r: string) => r.slice(0, -1) + (r.endsWith('q') ? 'p' : 'q');
    for (const r of [flip(pq), flip(x)]) {
      expect(recipientForm('wrapTo', r)).toBeDefined();
      const err = await encryptArmored('wrapTo', r, new Uint8Array(8)).catch((e: unknown) => e);
      expect(refusesWrapTo(err), r).toBe(true);
    }
  });

  it('encrypts an armored file to a recipient, and refuses a low-order X25519 point with 400', async () => {
    const id = await generateHybridIdentity();
    const armored = await encryptArmored(
      'wrapTo',
      await identityToRecipient(id),
      new TextEncoder().encode('secret'),
    );
    expect(armored.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true);
    const d = new Decrypter();
    d.addIdentity(id);
    expect(await d.decrypt(armor.decode(armored), 'text')).toBe('secret');
    const lowOrder = bech32.encodeFromBytes('age', new Uint8Array(32));
    await expect(encryptArmored('wrapTo', lowOrder, new Uint8Array(1))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^wrapTo /),
    });
  });

  it('encrypts concurrently on the worker threads, each file to its own recipient, leaving the input as it was', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => generateHybridIdentity()));
    const plaintext = new TextEncoder().encode('AGE-SECRET-KEY-PQ-1EXAMPLE');
    const files = await Promise.all(
      ids.map(async (id) => encryptArmored('wrapTo', await identityToRecipient(id), plaintext)),
    );
    expect(new TextDecoder().decode(plaintext)).toBe('AGE-SECRET-KEY-PQ-1EXAMPLE');
    for (const [i, id] of ids.entries()) {
      const d = new Decrypter();
      d.addIdentity(id);
      expect(await d.decrypt(armor.decode(files[i]!), 'text')).toBe('AGE-SECRET-KEY-PQ-1EXAMPLE');
      const other = new Decrypter();
      other.addIdentity(ids[(i + 1) % ids.length]!);
      await expect(other.decrypt(armor.decode(files[i]!), 'text')).rejects.toThrow();
    }
  });
});
