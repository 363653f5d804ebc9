/**
 * The experience library on two KMS processes sharing one PostgreSQL database (ARCHITECTURE.md
 * "Several instances" and "Caches"): the master is made once under concurrent first use on both,
 * ciphertexts open on either, a user deletion on one is honoured by the other within 1 s although
 * it had the user's key cached, and rotations on both never collide.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnKms, adminTokenOf, request, type KmsProcess } from '../support/process.js';
import { createPgDatabase } from '../support/store.js';

const procs: KmsProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
let a: KmsProcess;
let b: KmsProcess;
let admin: string;
let token: string;

beforeAll(async () => {
  const db = await createPgDatabase();
  cleanups.push(db.drop);
  a = await spawnKms({ databaseUrl: db.url, instanceId: 'exp-a' });
  procs.push(a);
  b = await spawnKms({ databaseUrl: db.url, instanceId: 'exp-b' });
  procs.push(b);
  for (const p of procs)
    cleanups.push(async () => rmSync(p.dataDir, { recursive: true, force: true }));
  admin = adminTokenOf(a.dataDir);
  const made = await request(`${a.url}/v1/principals`, 'POST', admin, {
    name: 'exp',
    role: 'experience',
    scopes: [],
  });
  expect(made.status).toBe(201);
  token = (await request(`${a.url}/v1/principals/exp/tokens`, 'POST', admin, {})).body.token;
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const c of cleanups) await c();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const encrypt = (p: KmsProcess, userId: string, text: string) =>
  request(`${p.url}/v1/experience/encrypt`, 'POST', token, { userId, plaintext: b64(text) });
const decrypt = (p: KmsProcess, userId: string, ciphertext: string) =>
  request(`${p.url}/v1/experience/decrypt`, 'POST', token, { userId, ciphertext });

describe('experience library on two processes', () => {
  it('makes the master once under concurrent first use on both', async () => {
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        encrypt(i % 2 ? a : b, `did:lux:122:first-${i}`, `m${i}`),
      ),
    );
    for (const r of replies) expect(r.status, JSON.stringify(r.body)).toBe(200);
    for (const r of replies) expect(r.body.keyVersion).toBe(1);
    const created = await request(
      `${a.url}/v1/audit/events?action=key.create&key=experience-master`,
      'GET',
      admin,
    );
    expect(created.body.events).toHaveLength(1);
    for (let i = 0; i < replies.length; i++) {
      const other = i % 2 ? b : a;
      const r = await decrypt(other, `did:lux:122:first-${i}`, replies[i]!.body.ciphertext);
      expect(r.body.plaintext).toBe(b64(`m${i}`));
    }
  });

  it('a deletion on one process answers 410 on the other within 1 s, though it cached the key', async () => {
    const userId = 'did:lux:122:shred-across';
    const c = (await encrypt(a, userId, 'gone soon')).body.ciphertext;
    expect((await decrypt(b, userId, c)).status).toBe(200);
    const del = await request(
      `${a.url}/v1/experience/users/${encodeURIComponent(userId)}`,
      'DELETE',
      token,
    );
    expect(del.body).toEqual({ destroyed: true });
    const start = Date.now();
    let last = await decrypt(b, userId, c);
    while (last.status === 200 && Date.now() - start < 3000) last = await decrypt(b, userId, c);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(last.status).toBe(410);
    expect(last.body.error.code).toBe('USER_KEY_DESTROYED');
    expect((await decrypt(a, userId, c)).status).toBe(410);
    const again = (await encrypt(b, userId, 'new life')).body.ciphertext as string;
    expect(again.split(':')[3]).toBe('2');
    expect((await decrypt(a, userId, again)).body.plaintext).toBe(b64('new life'));
  });

  it('retiring master versions on one process refuses them on the other within 1 s', async () => {
    const userId = 'did:lux:122:retire-across';
    const c = (await encrypt(a, userId, 'old')).body.ciphertext;
    expect((await decrypt(b, userId, c)).status).toBe(200);
    const rotated = await request(`${a.url}/v1/experience/rotate`, 'POST', admin);
    const patched = await request(`${a.url}/v1/keys/experience-master`, 'PATCH', admin, {
      minDecryptionVersion: rotated.body.keyVersion,
    });
    expect(patched.status).toBe(200);
    const start = Date.now();
    let last = await decrypt(b, userId, c);
    while (last.status === 200 && Date.now() - start < 3000) last = await decrypt(b, userId, c);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(last.body.error.code).toBe('KEY_VERSION_RETIRED');
  });

  it('rotations on both processes at once each add one version; both then encrypt with the newest', async () => {
    const rotated = await Promise.all(
      [a, b, a, b].map((p) => request(`${p.url}/v1/experience/rotate`, 'POST', admin)),
    );
    expect(rotated.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(rotated.map((r) => r.body.keyVersion).sort()).toEqual([3, 4, 5, 6]);
    const start = Date.now();
    for (const p of [a, b]) {
      let v = 0;
      while (v !== 6 && Date.now() - start < 3000)
        v = (await encrypt(p, 'did:lux:122:after-rotation', 'x')).body.keyVersion;
      expect(v).toBe(6);
    }
    expect(Date.now() - start).toBeLessThan(1000);
  });
});
