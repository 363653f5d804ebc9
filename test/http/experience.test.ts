/**
 * Experience library (API.md "Experience library", issue 5): round trips, binding of user id,
 * context and version, the documented derivation recomputed independently with @noble/hashes,
 * crypto-shredding across restarts, rotation and retirement, batches, audit, roles, first use and
 * automatic rotation.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { storeDump } from '../support/dump.js';

const MASTER = 'experience-master';
const KNOWN_MASTER = Buffer.from(
  '8c0f6e5a1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5',
  'hex',
);
const DAY = 86_400_000;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The ciphertext string of docs/experience.md, parsed independently of src/. */
function parts(c: string) {
  const m = /^zoo-exp:1:([1-9][0-9]*):([1-9][0-9]*):([A-Za-z0-9+/=]+)$/.exec(c);
  if (!m) throw new Error(`not an experience ciphertext: ${c}`);
  const bytes = Buffer.from(m[3]!, 'base64');
  return {
    version: Number(m[1]),
    generation: Number(m[2]),
    iv: bytes.subarray(0, 12),
    body: bytes.subarray(12, -16),
    tag: bytes.subarray(-16),
  };
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The associated data as docs/experience.md writes it. */
function aad(userId: string, version: number, generation: number, context = '') {
  const u = Buffer.from(userId, 'utf8');
  const c = Buffer.from(context, 'utf8');
  return Buffer.concat([
    Buffer.from('zoo-kms/experience/v1'),
    u32(version),
    u32(generation),
    u32(u.length),
    u,
    u32(c.length),
    c,
  ]);
}

/** HKDF-Expand(master, "zoo:experience:v{v}:" || salt || userId, 32), by @noble/hashes. */
function userKey(
  master: Uint8Array,
  version: number,
  salt: Uint8Array,
  userId: string,
): Uint8Array {
  const info = Buffer.concat([
    Buffer.from(`zoo:experience:v${version}:`),
    salt,
    Buffer.from(userId, 'utf8'),
  ]);
  return expand(sha256, master, info, 32);
}

function openLocally(
  key: Uint8Array,
  ciphertext: string,
  userId: string,
  context?: string,
): Buffer {
  const p = parts(ciphertext);
  const d = createDecipheriv('aes-256-gcm', key, p.iv);
  d.setAAD(aad(userId, p.version, p.generation, context));
  d.setAuthTag(p.tag);
  return Buffer.concat([d.update(p.body), d.final()]);
}

function sealLocally(
  key: Uint8Array,
  plaintext: Uint8Array,
  userId: string,
  version: number,
  generation: number,
  context?: string,
): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad(userId, version, generation, context));
  const body = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return `zoo-exp:1:${version}:${generation}:${b64(Buffer.concat([iv, body]))}`;
}

async function saltOf(t: TestKms, userId: string, generation: number) {
  return t.kms.services.deps.db
    .selectFrom('experience_salts')
    .selectAll()
    .where('user_hash', '=', sha(userId))
    .where('generation', '=', generation)
    .executeTakeFirstOrThrow();
}

async function eventsOf(t: TestKms, query: string) {
  const out: any[] = [];
  let after = '';
  for (;;) {
    const r = await t.call(
      'GET',
      `/v1/audit/events?limit=1000&${query}${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    expect(r.status).toBe(200);
    out.push(...r.body.events);
    if (!r.body.next || r.body.events.length === 0) return out;
    after = r.body.next;
  }
}

let t: TestKms;
let token: string;
const call = (method: string, url: string, body?: unknown) => t.call(method, url, { token, body });
const encrypt = (userId: string, plaintext: Uint8Array, context?: string) =>
  call('POST', '/v1/experience/encrypt', {
    userId,
    plaintext: b64(plaintext),
    ...(context === undefined ? {} : { context }),
  });
const decrypt = (userId: string, ciphertext: string, context?: string) =>
  call('POST', '/v1/experience/decrypt', {
    userId,
    ciphertext,
    ...(context === undefined ? {} : { context }),
  });

async function sealed(userId: string, plaintext: Uint8Array, context?: string): Promise<string> {
  const r = await encrypt(userId, plaintext, context);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.ciphertext;
}

async function expectPlaintext(
  userId: string,
  ciphertext: string,
  plaintext: Uint8Array,
  context?: string,
) {
  const r = await decrypt(userId, ciphertext, context);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(Buffer.from(r.body.plaintext, 'base64').equals(Buffer.from(plaintext))).toBe(true);
}

async function expectCode(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
}

describe('experience library', () => {
  beforeAll(async () => {
    t = await startKms();
    const imported = await t.call('POST', '/v1/keys/import', {
      body: {
        name: MASTER,
        algorithm: 'hmac-sha256',
        purpose: 'experience-master',
        privateKey: `0x${KNOWN_MASTER.toString('hex')}`,
      },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    token = await principalToken(t, 'exp-svc', 'experience');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the user key is HKDF-Expand(master_v, "zoo:experience:v{v}:" || salt || userId, 32), as documented', async () => {
    const userId = 'did:lux:122:0xderivation';
    const plaintext = Buffer.from('remember: the user prefers tea');
    const c = await sealed(userId, plaintext, 'prefs');
    const p = parts(c);
    expect(p).toMatchObject({ version: 1, generation: 1 });
    const row = await saltOf(t, userId, 1);
    expect(row.salt).toHaveLength(32);
    const key = userKey(KNOWN_MASTER, 1, row.salt, userId);
    expect(openLocally(key, c, userId, 'prefs').equals(plaintext)).toBe(true);
    // And the other way: the server opens what the test sealed with its own key.
    const mine = sealLocally(key, Buffer.from('sealed by the test'), userId, 1, 1, 'prefs');
    await expectPlaintext(userId, mine, Buffer.from('sealed by the test'), 'prefs');
  });

  it('round trips 0 B, 1 B, 1 KiB and 1 MiB; two encryptions of one plaintext differ', async () => {
    for (const size of [0, 1, 1024, 1024 * 1024]) {
      const plaintext = randomBytes(size);
      const a = await sealed('did:lux:122:sizes', plaintext);
      const b = await sealed('did:lux:122:sizes', plaintext);
      expect(a).not.toBe(b);
      expect(parts(a).iv.equals(parts(b).iv)).toBe(false);
      await expectPlaintext('did:lux:122:sizes', a, plaintext);
      await expectPlaintext('did:lux:122:sizes', b, plaintext);
    }
  });

  it('round trips random plaintexts, user ids and contexts (property)', async () => {
    const userId = fc
      .string({ minLength: 1, maxLength: 60, unit: 'grapheme' })
      .filter((s) => /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]{1,256}$/u.test(s));
    const context = fc.option(fc.string({ maxLength: 40, unit: 'grapheme' }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        userId,
        fc.uint8Array({ maxLength: 3000 }),
        context,
        async (u, plaintext, ctx) => {
          const c = await sealed(u, plaintext, ctx);
          await expectPlaintext(u, c, plaintext, ctx);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses plaintexts over max_plaintext and malformed user ids and contexts, naming the field', async () => {
    const over = await encrypt('did:lux:122:big', new Uint8Array(1024 * 1024 + 1));
    await expectCode(over, 400, 'INVALID_REQUEST');
    expect(over.body.error.message).toMatch(/^plaintext /);
    for (const bad of ['', 'x'.repeat(257), 'tab\there', 'nul\u0000', 'zwj\u200d']) {
      const r = await encrypt(bad, Buffer.from('x'));
      await expectCode(r, 400, 'INVALID_REQUEST');
      expect(r.body.error.message).toMatch(/^userId /);
    }
    expect((await encrypt('x'.repeat(256), Buffer.from('x'))).status).toBe(200);
    const ctx = await encrypt('did:lux:122:ctx', Buffer.from('x'), 'c'.repeat(257));
    await expectCode(ctx, 400, 'INVALID_REQUEST');
    expect(ctx.body.error.message).toMatch(/^context /);
  });

  it('another user id, another context, a flipped bit anywhere, or a truncation: 400 DECRYPTION_FAILED', async () => {
    const userId = 'did:lux:122:flip';
    const plaintext = Buffer.from('hi');
    const c = await sealed(userId, plaintext, 'ctx');
    await sealed('did:lux:122:neighbour', plaintext, 'ctx');
    const wrong: [string, string, string | undefined][] = [
      ['did:lux:122:neighbour', c, 'ctx'],
      ['did:lux:122:nobody', c, 'ctx'],
      [userId, c, 'other'],
      [userId, c, undefined],
    ];
    for (let i = 0; i < c.length; i++) {
      for (let bit = 0; bit < 8; bit++)
        wrong.push([
          userId,
          c.slice(0, i) + String.fromCharCode(c.charCodeAt(i) ^ (1 << bit)) + c.slice(i + 1),
          'ctx',
        ]);
    }
    const p = parts(c);
    const bytes = Buffer.concat([p.iv, p.body, p.tag]);
    for (let i = 0; i < bytes.length * 8; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i >> 3]! ^= 1 << (i & 7);
      wrong.push([userId, `zoo-exp:1:1:1:${b64(flipped)}`, 'ctx']);
    }
    for (let n = 0; n < c.length; n++) wrong.push([userId, c.slice(0, n), 'ctx']);
    for (let i = 0; i < wrong.length; i += 50) {
      const replies = await Promise.all(
        wrong.slice(i, i + 50).map(([u, x, ctx]) => decrypt(u, x, ctx)),
      );
      replies.forEach((r, j) => {
        expect(r.status, `case ${i + j}: ${JSON.stringify(wrong[i + j])}`).toBe(400);
        expect(r.body.error).toMatchObject({
          code: 'DECRYPTION_FAILED',
          message: 'decryption failed',
        });
      });
    }
    await expectPlaintext(userId, c, plaintext, 'ctx');
  });

  it('a batch with bad items answers per item, in order, with the good items done', async () => {
    const good = Buffer.from('good');
    const enc = await call('POST', '/v1/experience/encrypt:batch', {
      items: [
        { userId: 'did:lux:122:b1', plaintext: b64(good) },
        { userId: 'did:lux:122:b2', plaintext: b64(new Uint8Array(1024 * 1024 + 1)) },
        { userId: 'bad\u0001id', plaintext: b64(good) },
        { userId: 'did:lux:122:b2', plaintext: b64(good), context: 'c' },
      ],
    });
    expect(enc.status, JSON.stringify(enc.body)).toBe(200);
    const [e0, e1, e2, e3] = enc.body.items;
    expect(e0.keyVersion).toBe(1);
    expect(e1.error.code).toBe('INVALID_REQUEST');
    expect(e1.error.message).toMatch(/^items\[1\]\.plaintext /);
    expect(e2.error.message).toMatch(/^items\[2\]\.userId /);
    await expectPlaintext('did:lux:122:b1', e0.ciphertext, good);
    await expectPlaintext('did:lux:122:b2', e3.ciphertext, good, 'c');

    const tampered =
      e0.ciphertext.slice(0, -6) +
      (e0.ciphertext.at(-6) === 'A' ? 'B' : 'A') +
      e0.ciphertext.slice(-5);
    const dec = await call('POST', '/v1/experience/decrypt:batch', {
      items: [
        { userId: 'did:lux:122:b1', ciphertext: e0.ciphertext },
        { userId: 'did:lux:122:b1', ciphertext: tampered },
        { userId: 'did:lux:122:b2', ciphertext: e3.ciphertext, context: 'c' },
        { userId: 'did:lux:122:b2', ciphertext: e3.ciphertext },
      ],
    });
    expect(dec.status).toBe(200);
    expect(dec.body.items).toEqual([
      { plaintext: b64(good) },
      { error: { code: 'DECRYPTION_FAILED', message: 'decryption failed' } },
      { plaintext: b64(good) },
      { error: { code: 'DECRYPTION_FAILED', message: 'decryption failed' } },
    ]);
    const many = Array.from({ length: 1001 }, () => ({ userId: 'did:lux:122:b1', plaintext: '' }));
    expect((await call('POST', '/v1/experience/encrypt:batch', { items: many })).status).toBe(400);
    expect(
      (await call('POST', '/v1/experience/encrypt:batch', { items: many.slice(0, 1000) })).body
        .items,
    ).toHaveLength(1000);
  });

  it('every call is one audit event with the user id hash, never the user id or the plaintext', async () => {
    const auditor = 'exp-audited';
    const tok = await principalToken(t, auditor, 'experience');
    const userId = `did:lux:122:audit-${randomBytes(6).toString('hex')}`;
    const plaintext = Buffer.from(`secret-memory-${randomBytes(8).toString('hex')}`);
    const as = (url: string, body: unknown) => t.call('POST', url, { token: tok, body });
    const c = (await as('/v1/experience/encrypt', { userId, plaintext: b64(plaintext) })).body
      .ciphertext;
    expect((await as('/v1/experience/decrypt', { userId, ciphertext: c })).status).toBe(200);
    expect(
      (await as('/v1/experience/decrypt', { userId, ciphertext: c, context: 'no' })).status,
    ).toBe(400);
    expect((await as('/v1/experience/rewrap', { userId, ciphertext: c })).status).toBe(200);
    expect(
      (
        await as('/v1/experience/encrypt:batch', {
          items: [
            { userId, plaintext: b64(plaintext) },
            { userId, plaintext: '!' },
          ],
        })
      ).status,
    ).toBe(200);
    expect(
      (await as('/v1/experience/decrypt:batch', { items: [{ userId, ciphertext: c }] })).status,
    ).toBe(200);
    expect(
      (await t.call('DELETE', `/v1/experience/users/${encodeURIComponent(userId)}`, { token: tok }))
        .status,
    ).toBe(200);

    const events = await eventsOf(t, `principal=${auditor}`);
    expect(events.map((e) => [e.action, e.outcome, e.code])).toEqual([
      ['experience.encrypt', 'success', null],
      ['experience.decrypt', 'success', null],
      ['experience.decrypt', 'refused', 'DECRYPTION_FAILED'],
      ['experience.rewrap', 'success', null],
      ['experience.encrypt', 'success', null],
      ['experience.encrypt', 'refused', 'INVALID_REQUEST'],
      ['experience.decrypt', 'success', null],
      ['experience.delete_user', 'success', null],
    ]);
    const hash = `0x${sha(userId).toString('hex')}`;
    for (const e of events) expect(e.details.userHash).toBe(hash);
    expect(events.slice(4, 7).map((e) => e.details.item)).toEqual([0, 1, 0]);
    const needles = [userId, plaintext.toString(), b64(plaintext), plaintext.toString('hex')];
    const text = JSON.stringify(await eventsOf(t, ''));
    for (const n of needles) expect(text.includes(n), `audit events hold ${n}`).toBe(false);
    const dump = await storeDump(t);
    for (const n of needles)
      expect(dump.includes(Buffer.from(n)), `the store holds ${n}`).toBe(false);
  });

  it('answers 403 to other roles, rotate is admin only; refusals before the service ran are audited', async () => {
    const signer = await principalToken(t, 'exp-signer', 'signing', ['*']);
    for (const [method, url, body] of [
      ['POST', '/v1/experience/encrypt', { userId: 'u', plaintext: '' }],
      ['POST', '/v1/experience/decrypt', { userId: 'u', ciphertext: 'x' }],
      ['POST', '/v1/experience/rewrap', { userId: 'u', ciphertext: 'x' }],
      ['POST', '/v1/experience/encrypt:batch', { items: [{ userId: 'u', plaintext: '' }] }],
      ['POST', '/v1/experience/decrypt:batch', { items: [{ userId: 'u', ciphertext: 'x' }] }],
      ['DELETE', '/v1/experience/users/u', undefined],
      ['POST', '/v1/experience/rotate', undefined],
    ] as const) {
      await expectCode(await t.call(method, url, { token: signer, body }), 403, 'FORBIDDEN');
    }
    await expectCode(await call('POST', '/v1/experience/rotate'), 403, 'FORBIDDEN');
    await expectCode(await call('POST', `/v1/keys/${MASTER}/rotate`), 403, 'FORBIDDEN');
    await expectCode(await call('GET', `/v1/keys/${MASTER}`), 403, 'FORBIDDEN');
    // These events are written after the reply (onResponse): wait for them.
    const settled = async (principal: string, n: number) => {
      const query = async () =>
        (await eventsOf(t, `principal=${principal}&key=${MASTER}`)).filter((e) =>
          e.action.startsWith('request '),
        );
      for (let i = 0; i < 50 && (await query()).length < n; i++)
        await new Promise((r) => setTimeout(r, 20));
      return query();
    };
    const early = await settled('exp-signer', 7);
    expect(early.map((e) => [e.outcome, e.code])).toEqual(Array(7).fill(['refused', 'FORBIDDEN']));
    await expectCode(
      await call('POST', '/v1/experience/encrypt', { userId: 'u' }),
      400,
      'INVALID_REQUEST',
    );
    const mine = await settled('exp-svc', 4);
    expect(mine.map((e) => [e.action, e.code])).toEqual([
      // 1,001 items, above (the route's url is written with find-my-way's escaped colon)
      [
        expect.stringMatching(/^request POST \/v1\/experience\/encrypt::?batch$/),
        'INVALID_REQUEST',
      ],
      ['request POST /v1/experience/rotate', 'FORBIDDEN'],
      ['request POST /v1/keys/:name/rotate', 'FORBIDDEN'],
      ['request POST /v1/experience/encrypt', 'INVALID_REQUEST'],
    ]);
  });

  it('deletion answers 410 for every earlier ciphertext, after new data and after a restart; others unaffected', async () => {
    const gone = 'did:lux:122:forget-me';
    const kept = 'did:lux:122:keep-me';
    const before = [
      await sealed(gone, Buffer.from('a')),
      await sealed(gone, Buffer.from('b'), 'ctx'),
      await sealed(gone, new Uint8Array(0)),
    ];
    const other = await sealed(kept, Buffer.from('k'));
    const del = await call('DELETE', `/v1/experience/users/${encodeURIComponent(gone)}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ destroyed: true });
    for (const c of before)
      await expectCode(
        await decrypt(gone, c, c === before[1] ? 'ctx' : undefined),
        410,
        'USER_KEY_DESTROYED',
      );
    await expectCode(
      await call('POST', '/v1/experience/rewrap', { userId: gone, ciphertext: before[0] }),
      410,
      'USER_KEY_DESTROYED',
    );
    await expectPlaintext(kept, other, Buffer.from('k'));

    const after = await sealed(gone, Buffer.from('new life'));
    expect(parts(after).generation).toBe(2);
    await expectPlaintext(gone, after, Buffer.from('new life'));
    await expectCode(await decrypt(gone, before[0]!), 410, 'USER_KEY_DESTROYED');
    const shredded = await saltOf(t, gone, 1);
    expect(shredded.destroyed_at).not.toBeNull();
    expect(Buffer.from(shredded.salt).equals(Buffer.alloc(32))).toBe(true);

    t = await t.restart();
    await expectCode(await decrypt(gone, before[0]!), 410, 'USER_KEY_DESTROYED');
    await expectCode(await decrypt(gone, before[1]!, 'ctx'), 410, 'USER_KEY_DESTROYED');
    await expectPlaintext(gone, after, Buffer.from('new life'));
    await expectPlaintext(kept, other, Buffer.from('k'));
    const unknown = await call('DELETE', '/v1/experience/users/did%3Alux%3A122%3Anever-seen');
    expect(unknown.body).toEqual({ destroyed: true });
  });

  it('rotation: old ciphertexts decrypt, new ones carry the new version, rewrap moves old ones, v1 never encrypts again', async () => {
    const userId = 'did:lux:122:rotating';
    const plaintext = Buffer.from('across versions');
    const old = await sealed(userId, plaintext);
    expect(parts(old).version).toBe(1);
    const rotated = await t.call('POST', '/v1/experience/rotate');
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body).toEqual({ keyVersion: 2 });
    await expectPlaintext(userId, old, plaintext);

    const salt = (await saltOf(t, userId, 1)).salt;
    const v1Keys = [userKey(KNOWN_MASTER, 1, salt, userId), userKey(KNOWN_MASTER, 2, salt, userId)];
    for (let i = 0; i < 10; i++) {
      const r = await encrypt(userId, plaintext);
      expect(r.body.keyVersion).toBe(2);
      expect(parts(r.body.ciphertext).version).toBe(2);
      for (const k of v1Keys) expect(() => openLocally(k, r.body.ciphertext, userId)).toThrow();
    }
    const moved = await call('POST', '/v1/experience/rewrap', { userId, ciphertext: old });
    expect(moved.status).toBe(200);
    expect(moved.body.keyVersion).toBe(2);
    expect(parts(moved.body.ciphertext)).toMatchObject({ version: 2, generation: 1 });
    await expectPlaintext(userId, moved.body.ciphertext, plaintext);
  });

  it('a retired version answers 409 KEY_VERSION_RETIRED, a destroyed one 410 KEY_DESTROYED', async () => {
    const userId = 'did:lux:122:retire';
    const plaintext = Buffer.from('retire me');
    const key = (await t.call('GET', `/v1/keys/${MASTER}`)).body;
    expect(key.versions.map((v: any) => v.state)).toEqual(['decrypt-only', 'active']);
    const v1 = sealLocally(
      userKey(
        KNOWN_MASTER,
        1,
        (await saltOf(t, 'did:lux:122:rotating', 1)).salt,
        'did:lux:122:rotating',
      ),
      plaintext,
      'did:lux:122:rotating',
      1,
      1,
    );
    await expectPlaintext('did:lux:122:rotating', v1, plaintext);
    const v2 = await sealed(userId, plaintext);
    expect(
      (await t.call('PATCH', `/v1/keys/${MASTER}`, { body: { minDecryptionVersion: 2 } })).status,
    ).toBe(200);
    await expectCode(await decrypt('did:lux:122:rotating', v1), 409, 'KEY_VERSION_RETIRED');
    await expectCode(
      await call('POST', '/v1/experience/rewrap', {
        userId: 'did:lux:122:rotating',
        ciphertext: v1,
      }),
      409,
      'KEY_VERSION_RETIRED',
    );
    await expectPlaintext(userId, v2, plaintext);

    expect((await t.call('POST', '/v1/experience/rotate')).body).toEqual({ keyVersion: 3 });
    expect((await t.call('DELETE', `/v1/keys/${MASTER}/versions/2`)).status).toBe(200);
    await expectCode(await decrypt(userId, v2), 410, 'KEY_DESTROYED');
    const v3 = await sealed(userId, plaintext);
    expect(parts(v3).version).toBe(3);
    await expectPlaintext(userId, v3, plaintext);
  });
});

describe('experience master: first use and automatic rotation', () => {
  let offset = 0;
  beforeAll(async () => {
    t = await startKms({
      now: () => Date.now() + offset,
      config: { experience_library: { key_rotation_days: 1 } },
    });
    token = await principalToken(t, 'exp-auto', 'experience');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is made once on first use, under concurrent first requests', async () => {
    expect((await t.call('GET', `/v1/keys/${MASTER}`)).status).toBe(404);
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) => encrypt(`did:lux:122:first-${i}`, Buffer.from([i]))),
    );
    for (const r of replies) expect(r.body.keyVersion, JSON.stringify(r.body)).toBe(1);
    const key = (await t.call('GET', `/v1/keys/${MASTER}`)).body;
    expect(key).toMatchObject({ algorithm: 'hmac-sha256', purpose: 'experience-master' });
    expect(key.versions).toHaveLength(1);
    const created = await eventsOf(t, `action=key.create&key=${MASTER}`);
    expect(created.map((e) => [e.principal, e.outcome])).toEqual([['system', 'success']]);
  });

  it('rotates once when the active version is key_rotation_days old', async () => {
    const old = await sealed('did:lux:122:auto', Buffer.from('before'));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.call('GET', `/v1/keys/${MASTER}`)).body.versions).toHaveLength(1);
    offset += DAY + 60_000;
    const deadline = Date.now() + 10_000;
    let versions: any[] = [];
    while (Date.now() < deadline) {
      versions = (await t.call('GET', `/v1/keys/${MASTER}`)).body.versions;
      if (versions.length > 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(versions.map((v) => v.state)).toEqual(['decrypt-only', 'active']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.call('GET', `/v1/keys/${MASTER}`)).body.versions).toHaveLength(2);
    const rotations = await eventsOf(t, `action=key.rotate&key=${MASTER}`);
    expect(rotations.map((e) => [e.principal, e.keyVersion])).toEqual([['system', 2]]);
    expect((await encrypt('did:lux:122:auto', Buffer.from('after'))).body.keyVersion).toBe(2);
    await expectPlaintext('did:lux:122:auto', old, Buffer.from('before'));
  });
});
