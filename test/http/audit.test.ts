/**
 * Issue 2, audit: one event per key operation (success or refusal); edits and deletions before
 * the last checkpoint are found by /v1/audit/verify; a checkpoint verifies with the published key;
 * when the audit store cannot be written the operation answers 503 AUDIT_UNAVAILABLE and has no effect.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startKms, principalToken, type TestKms } from '../support/kms.js';

let t: TestKms;
beforeEach(async () => {
  t = await startKms();
});
afterEach(async () => {
  await t?.close();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unhex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));

async function events(key?: string) {
  const r = await t.call('GET', `/v1/audit/events?limit=1000${key ? `&key=${key}` : ''}`);
  expect(r.status).toBe(200);
  return r.body.events as {
    action: string;
    outcome: string;
    code: string | null;
    key: string | null;
    principal: string | null;
    seq: number;
  }[];
}

describe('audit events', () => {
  it('every key operation, success or refusal, makes exactly one event', async () => {
    const token = await principalToken(t, 'signer', 'signing', ['a-*']);
    const outsider = await principalToken(t, 'outsider', 'signing', ['b-*']);
    await t.call('POST', '/v1/keys', {
      body: { name: 'a-1', algorithm: 'ed25519', purpose: 'signing' },
    });
    await t.call('POST', '/v1/keys/a-1/sign', { token, body: { message: b64('m') } });
    await t.call('POST', '/v1/keys/a-1/sign', { token: outsider, body: { message: b64('m') } });
    await t.call('PATCH', '/v1/keys/a-1', { body: { enabled: false } });
    await t.call('POST', '/v1/keys/a-1/sign', { token, body: { message: b64('m') } });
    await t.call('POST', '/v1/keys/a-1/rotate');
    const list = (await events('a-1')).map((e) => [e.action, e.outcome, e.code, e.principal]);
    expect(list).toEqual([
      ['key.create', 'success', null, 'admin'],
      ['key.sign', 'success', null, 'signer'],
      ['key.sign', 'refused', 'FORBIDDEN', 'outsider'],
      ['key.update', 'success', null, 'admin'],
      ['key.sign', 'refused', 'KEY_DISABLED', 'signer'],
      ['key.rotate', 'success', null, 'admin'],
    ]);
    const enc = await principalToken(t, 'enc', 'encryption', ['a-*']);
    expect(
      (await t.call('POST', '/v1/keys/a-1/sign', { token: enc, body: { message: b64('m') } }))
        .status,
    ).toBe(403);
    expect(
      (await t.call('POST', '/v1/keys/a-1/sign', { token, body: { mesage: 'typo' } })).status,
    ).toBe(400);
    expect((await t.call('POST', '/v1/keys/a-1/sign', { token: null, body: {} })).status).toBe(401);
    const early = (await events('a-1')).slice(6).map((e) => [e.outcome, e.code, e.principal]);
    expect(early).toEqual([
      ['refused', 'FORBIDDEN', 'enc'],
      ['refused', 'INVALID_REQUEST', 'signer'],
    ]);
    const page = await t.call('GET', '/v1/audit/events?limit=2&key=a-1');
    expect(page.body.events).toHaveLength(2);
    const next = await t.call('GET', `/v1/audit/events?limit=2&key=a-1&after=${page.body.next}`);
    expect(next.body.events[0].action).toBe('key.sign');
    expect((await t.call('GET', '/v1/audit/events?after=garbage')).status).toBe(400);
  });
});

describe('audit event filters and cursors', () => {
  const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  it('a filter holding U+0000 matches as the log stores it; a cursor not made by the KMS is 400', async () => {
    for (const field of ['key', 'principal', 'action']) {
      const r = await t.call('GET', `/v1/audit/events?${field}=a%00b`);
      expect([field, r.status, r.body.events]).toEqual([field, 200, []]);
    }
    const page = await t.call('GET', '/v1/audit/events?limit=1');
    expect(page.status).toBe(200);
    const [ts, instance, seq] = JSON.parse(Buffer.from(page.body.next, 'base64url').toString());
    expect(
      (await t.call('GET', `/v1/audit/events?after=${cursor([ts, instance, seq])}`)).status,
    ).toBe(200);
    for (const bad of [
      [1.5, instance, 1],
      [1e300, instance, 1],
      [ts, instance, 0.5],
      [ts, 'a\u0000b', seq],
      [String(ts), instance, seq],
    ]) {
      const r = await t.call('GET', `/v1/audit/events?after=${cursor(bad)}`);
      expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
      expect(r.body.error.message).toContain('after');
    }
  });
});

describe('audit verification', () => {
  async function someEvents(n: number) {
    for (let i = 0; i < n; i++)
      await t.call('POST', '/v1/keys', {
        body: { name: `k-${i}`, algorithm: 'p-256', purpose: 'signing' },
      });
  }

  it('verifies a clean chain and a checkpoint signed with the published key', async () => {
    await someEvents(3);
    await t.kms.services.deps.audit.checkpoint();
    const v = await t.call('GET', '/v1/audit/verify');
    expect(v.body.ok).toBe(true);
    const mine = v.body.chains.find((c: { instance: string }) => c.instance === t.kms.instanceId);
    expect(mine.events).toBeGreaterThanOrEqual(4);
    const key = await t.call('GET', '/v1/audit/checkpoint-key');
    const cp = await t.kms.services.deps.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('ts', 'desc')
      .executeTakeFirstOrThrow();
    expect(ed25519.verify(cp.signature, Buffer.from(cp.body), unhex(key.body.publicKey))).toBe(
      true,
    );
    expect(JSON.parse(cp.body).chains[0].head).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds an edited event', async () => {
    await someEvents(4);
    await t.kms.services.deps.audit.checkpoint();
    await sql`update audit_events set action = 'key.nothing' where seq = 3`.execute(
      t.kms.services.deps.db,
    );
    const v = await t.call('GET', '/v1/audit/verify');
    expect(v.body).toMatchObject({ ok: false, brokenAt: { instance: t.kms.instanceId, seq: 3 } });
  });

  it('finds an edited event even when its hash was recomputed (the checkpoint disagrees)', async () => {
    await someEvents(3);
    await t.kms.services.deps.audit.checkpoint();
    const db = t.kms.services.deps.db;
    const last = await db
      .selectFrom('audit_events')
      .select('seq')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '=', last.seq).execute();
    const v = await t.call('GET', '/v1/audit/verify');
    expect(v.body).toMatchObject({
      ok: false,
      brokenAt: { instance: t.kms.instanceId, seq: Number(last.seq) },
    });
  });

  it('finds a deleted event in the middle', async () => {
    await someEvents(4);
    await t.kms.services.deps.audit.checkpoint();
    await sql`delete from audit_events where seq = 2`.execute(t.kms.services.deps.db);
    const v = await t.call('GET', '/v1/audit/verify');
    expect(v.body).toMatchObject({ ok: false, brokenAt: { instance: t.kms.instanceId, seq: 2 } });
  });

  it('finds a tampered checkpoint', async () => {
    await someEvents(2);
    await t.kms.services.deps.audit.checkpoint();
    await sql`update audit_checkpoints set body = replace(body, '"seq":1', '"seq":9')`.execute(
      t.kms.services.deps.db,
    );
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(false);
  });

  it('keeps the chain across a restart', async () => {
    await someEvents(2);
    t = await t.restart();
    await someEvents(1);
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});

describe('the audit checkpoint key', () => {
  async function latestCheckpoint() {
    await t.kms.services.deps.audit.checkpoint();
    return t.kms.services.deps.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
  }

  it('is not destroyed, nor is its active version; a rotation signs the next checkpoint', async () => {
    const whole = await t.call('DELETE', '/v1/keys/audit-checkpoint');
    expect([whole.status, whole.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
    expect(whole.body.error.message).toContain('rotate it');
    const active = await t.call('DELETE', '/v1/keys/audit-checkpoint/versions/1');
    expect([active.status, active.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
    expect((await events('audit-checkpoint')).map((e) => [e.action, e.code])).toEqual([
      ['key.create', null],
      ['key.destroy', 'WRONG_PURPOSE'],
      ['key.destroy_version', 'WRONG_PURPOSE'],
    ]);
    expect((await latestCheckpoint()).key_version).toBe(1);

    expect((await t.call('POST', '/v1/keys/audit-checkpoint/rotate')).status).toBe(200);
    const cp = await latestCheckpoint();
    expect(cp.key_version).toBe(2);
    const key = await t.call('GET', '/v1/audit/checkpoint-key');
    expect(key.body.keyVersion).toBe(2);
    expect(ed25519.verify(cp.signature, Buffer.from(cp.body), unhex(key.body.publicKey))).toBe(
      true,
    );
    // The older version may go now; the checkpoints it signed still verify by its public key.
    expect((await t.call('DELETE', '/v1/keys/audit-checkpoint/versions/1')).status).toBe(200);
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });

  it('a start replaces one destroyed before destroys were refused, and one without an active version', async () => {
    const db = t.kms.services.deps.db;
    await db
      .updateTable('key_versions')
      .set({ state: 'destroyed', destroyed_at: 1 })
      .where(
        'key_id',
        'in',
        db.selectFrom('keys').select('id').where('name', '=', 'audit-checkpoint'),
      )
      .execute();
    t = await t.restart();
    let key = await t.call('GET', '/v1/audit/checkpoint-key');
    expect([key.status, key.body.keyVersion]).toEqual([200, 2]);
    expect((await latestCheckpoint()).key_version).toBe(2);

    await t.kms.services.deps.db
      .updateTable('keys')
      .set({ destroyed_at: 1 })
      .where('name', '=', 'audit-checkpoint')
      .execute();
    t = await t.restart();
    key = await t.call('GET', '/v1/audit/checkpoint-key');
    expect([key.status, key.body.keyVersion]).toEqual([200, 1]);
    expect((await latestCheckpoint()).key_version).toBe(1);
  });
});

describe('fail closed', () => {
  async function blockAudit(on: boolean) {
    const db = t.kms.services.deps.db;
    if (t.store === 'sqlite') {
      if (on)
        await sql`create trigger audit_block before insert on audit_events begin select raise(abort, 'audit blocked'); end`.execute(
          db,
        );
      else await sql`drop trigger audit_block`.execute(db);
      return;
    }
    if (on) {
      await sql`create or replace function audit_block() returns trigger as $$ begin raise exception 'audit blocked'; end $$ language plpgsql`.execute(
        db,
      );
      await sql`create trigger audit_block before insert on audit_events for each row execute function audit_block()`.execute(
        db,
      );
    } else await sql`drop trigger audit_block on audit_events`.execute(db);
  }

  it('answers 503 AUDIT_UNAVAILABLE and changes nothing when the audit log cannot be written', async () => {
    const token = await principalToken(t, 'signer', 'signing', ['*']);
    await t.call('POST', '/v1/keys', {
      body: { name: 'before', algorithm: 'ed25519', purpose: 'signing' },
    });
    await blockAudit(true);
    const create = await t.call('POST', '/v1/keys', {
      body: { name: 'during', algorithm: 'ed25519', purpose: 'signing' },
    });
    expect([create.status, create.body.error.code]).toEqual([503, 'AUDIT_UNAVAILABLE']);
    const sign = await t.call('POST', '/v1/keys/before/sign', {
      token,
      body: { message: b64('x') },
    });
    expect([sign.status, sign.body.error.code]).toEqual([503, 'AUDIT_UNAVAILABLE']);
    expect(sign.body.signature).toBeUndefined();
    const rotate = await t.call('POST', '/v1/keys/before/rotate');
    expect(rotate.status).toBe(503);
    await blockAudit(false);
    expect((await t.call('GET', '/v1/keys/during')).status).toBe(404);
    expect((await t.call('GET', '/v1/keys/before')).body.versions).toHaveLength(1);
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
    expect(
      (await t.call('POST', '/v1/keys/before/sign', { token, body: { message: b64('x') } })).status,
    ).toBe(200);
  });
});
