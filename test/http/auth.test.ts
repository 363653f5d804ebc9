/**
 * Issue 2, auth: 401 without a valid token, 403 for a role or scope that does not cover the key or
 * route (the same answer whether the key exists or not), revocation, expiry and principal
 * deletion take effect at the next request, and tokens are stored only as hashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { startKms, principalToken, type TestKms } from '../support/kms.js';
import { storeDump } from '../support/dump.js';

let t: TestKms;
let clock = Date.now();
beforeAll(async () => {
  t = await startKms({ now: () => clock });
  await t.call('POST', '/v1/keys', {
    body: { name: 'team-a.sign', algorithm: 'ed25519', purpose: 'signing' },
  });
  await t.call('POST', '/v1/keys', {
    body: { name: 'team-b.sign', algorithm: 'ed25519', purpose: 'signing' },
  });
});
afterAll(async () => {
  await t?.close();
});

const msg = { message: Buffer.from('m').toString('base64') };

describe('authentication', () => {
  it('answers 401 without a token, with a malformed header or an unknown token', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer zkms_unknown' },
      { authorization: 'Bearer ' },
    ] as Record<string, string>[]) {
      const r = await t.call('GET', '/v1/keys', { token: null, headers });
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(r.body.error.requestId).toBe(r.headers['x-request-id']);
    }
  });

  it('leaves health, readiness, metrics and JWKS open', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json']) {
      expect((await t.call('GET', url, { token: null })).status).toBe(200);
    }
  });
});

describe('authorization', () => {
  let a: string;
  beforeAll(async () => {
    a = await principalToken(t, 'team-a', 'signing', ['team-a.*']);
  });

  it('lets a signing token use keys in its scopes only, with no existence oracle', async () => {
    expect(
      (await t.call('POST', '/v1/keys/team-a.sign/sign', { token: a, body: msg })).status,
    ).toBe(200);
    const other = await t.call('POST', '/v1/keys/team-b.sign/sign', { token: a, body: msg });
    const missing = await t.call('POST', '/v1/keys/nope/sign', { token: a, body: msg });
    expect([other.status, other.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect([missing.status, missing.body.error.code]).toEqual([403, 'FORBIDDEN']);
    const inScopeMissing = await t.call('POST', '/v1/keys/team-a.none/sign', {
      token: a,
      body: msg,
    });
    expect([inScopeMissing.status, inScopeMissing.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses admin routes and other roles’ routes with 403', async () => {
    expect(
      (
        await t.call('POST', '/v1/keys', {
          token: a,
          body: { name: 'team-a.x', algorithm: 'ed25519', purpose: 'signing' },
        })
      ).status,
    ).toBe(403);
    expect((await t.call('GET', '/v1/principals', { token: a })).status).toBe(403);
    expect((await t.call('GET', '/v1/audit/verify', { token: a })).status).toBe(403);
    const enc = await principalToken(t, 'enc', 'encryption', ['team-a.*']);
    expect(
      (await t.call('POST', '/v1/keys/team-a.sign/sign', { token: enc, body: msg })).status,
    ).toBe(403);
  });

  it('lists only the keys in the caller’s scopes (none for experience and replicate)', async () => {
    const list = await t.call('GET', '/v1/keys', { token: a });
    expect(list.body.keys.map((k: { name: string }) => k.name)).toEqual(['team-a.sign']);
    expect((await t.call('GET', '/v1/keys/team-a.sign', { token: a })).status).toBe(200);
    expect((await t.call('GET', '/v1/keys/team-b.sign', { token: a })).status).toBe(403);
    const exp = await principalToken(t, 'exp', 'experience');
    expect((await t.call('GET', '/v1/keys', { token: exp })).body.keys).toEqual([]);
  });

  it('refuses a revoked token, an expired token and a deleted principal at the next request', async () => {
    const tokRes = await t.call('POST', '/v1/principals/team-a/tokens', {
      body: { ttlSeconds: 60 },
    });
    const token = tokRes.body.token as string;
    expect((await t.call('GET', '/v1/keys', { token })).status).toBe(200);
    clock += 61_000;
    expect((await t.call('GET', '/v1/keys', { token })).status).toBe(401);
    const second = (await t.call('POST', '/v1/principals/team-a/tokens', { body: {} })).body;
    expect((await t.call('GET', '/v1/keys', { token: second.token })).status).toBe(200);
    expect((await t.call('DELETE', `/v1/tokens/${second.tokenId}`)).status).toBe(204);
    expect((await t.call('GET', '/v1/keys', { token: second.token })).status).toBe(401);
    const listed = await t.call('GET', '/v1/principals/team-a/tokens');
    expect(JSON.stringify(listed.body)).not.toContain('zkms_');
    expect((await t.call('DELETE', '/v1/principals/team-a')).status).toBe(204);
    expect((await t.call('GET', '/v1/keys', { token: a })).status).toBe(401);
  });

  it('issues a token for a request with no body (its one field is optional)', async () => {
    await t.call('POST', '/v1/principals', { body: { name: 'bodiless', role: 'signing' } });
    const r = await t.call('POST', '/v1/principals/bodiless/tokens');
    expect(r.status).toBe(201);
    expect(r.body.token).toMatch(/^zkms_/);
    expect((await t.call('GET', '/v1/keys', { token: r.body.token })).status).toBe(200);
  });

  it('a token lookup that read before its revocation and ended after it is not cached', async () => {
    await t.call('POST', '/v1/principals', { body: { name: 'racer', role: 'signing' } });
    const issued = (await t.call('POST', '/v1/principals/racer/tokens', { body: {} })).body;
    const auth = t.kms.services.auth as unknown as {
      lookup: (hash: Buffer) => Promise<unknown>;
    };
    const lookup = auth.lookup.bind(auth);
    // The first use of the token reads it (valid); its revocation commits before that read returns.
    auth.lookup = async (hash) => {
      auth.lookup = lookup;
      const read = await lookup(hash);
      expect((await t.call('DELETE', `/v1/tokens/${issued.tokenId}`)).status).toBe(204);
      return read;
    };
    try {
      // This request raced the revocation; the answer it got is not kept.
      expect((await t.call('GET', '/v1/keys', { token: issued.token })).status).toBe(200);
    } finally {
      auth.lookup = lookup;
    }
    expect((await t.call('GET', '/v1/keys', { token: issued.token })).status).toBe(401);
  });
});

describe('principals', () => {
  it('validates roles, scopes and fingerprints, naming the field', async () => {
    const badRole = await t.call('POST', '/v1/principals', { body: { name: 'x', role: 'root' } });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.message).toContain('role');
    const badScope = await t.call('POST', '/v1/principals', {
      body: { name: 'r', role: 'replicate', scopes: ['zoo/prod'] },
    });
    expect(badScope.body.error.message).toContain('scopes[0]');
    const badFp = await t.call('POST', '/v1/principals', {
      body: { name: 'f', role: 'signing', certificateFingerprints: ['zz'] },
    });
    expect(badFp.body.error.message).toContain('certificateFingerprints[0]');
    const ok = await t.call('POST', '/v1/principals', {
      body: { name: 'sidecar', role: 'replicate', scopes: ['zoo/prod/iam'] },
    });
    expect(ok.status).toBe(201);
    const patched = await t.call('PATCH', '/v1/principals/sidecar', {
      body: { scopes: ['zoo/prod/kms'] },
    });
    expect(patched.body.scopes).toEqual(['zoo/prod/kms']);
    const dup = await t.call('POST', '/v1/principals', {
      body: { name: 'sidecar', role: 'replicate', scopes: [] },
    });
    expect(dup.status).toBe(409);
  });

  it('stores tokens only as hashes', async () => {
    const token = await principalToken(t, 'hashed', 'signing', ['*']);
    const dump = await storeDump(t);
    expect(dump.includes(Buffer.from(token))).toBe(false);
    expect(dump.includes(Buffer.from(t.adminToken))).toBe(false);
  });
});

describe('bootstrap', () => {
  it('a start finishes a first start that stopped before the admin token was on disk', async () => {
    let k = await startKms();
    try {
      const file = path.join(k.dataDir, 'admin.token');
      // The first start committed the admin and its token, then stopped before writing the file.
      await k.kms.services.deps.db.updateTable('tokens').set({ revoked_at: 1 }).execute();
      rmSync(file);
      k = await k.restart();
      const token = readFileSync(file, 'utf8').trim();
      expect(token).not.toBe('');
      expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
      expect((await k.call('GET', '/v1/keys', { token })).status).toBe(200);

      // Once someone else can administer it, a start writes nothing, whatever the admin's tokens.
      await k.call('POST', '/v1/principals', { body: { name: 'second', role: 'admin' } });
      await k.kms.services.deps.db.updateTable('tokens').set({ revoked_at: 1 }).execute();
      k = await k.restart();
      expect(readFileSync(file, 'utf8').trim()).toBe(token);
    } finally {
      await k.close();
    }
  });
});
