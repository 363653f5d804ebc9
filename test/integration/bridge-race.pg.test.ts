/**
 * Bridge nonces across instances (ARCHITECTURE.md "Several instances": nonce rules hold whichever
 * instance a request reaches): two KMS processes on one PostgreSQL database, different messages
 * racing for one nonce: exactly one is signed, every other is 409 NONCE_REUSED, and the winner's
 * message stays retryable on both processes with the same signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { spawnKms, adminTokenOf, request, type KmsProcess } from '../support/process.js';
import { createPgDatabase } from '../support/store.js';

const procs: KmsProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
let a: KmsProcess;
let b: KmsProcess;
let token: string;

beforeAll(async () => {
  const db = await createPgDatabase();
  cleanups.push(db.drop);
  a = await spawnKms({ databaseUrl: db.url, instanceId: 'bridge-a' });
  procs.push(a);
  b = await spawnKms({ databaseUrl: db.url, instanceId: 'bridge-b' });
  procs.push(b);
  for (const p of procs)
    cleanups.push(async () => rmSync(p.dataDir, { recursive: true, force: true }));
  const admin = adminTokenOf(a.dataDir);
  expect(
    (
      await request(`${a.url}/v1/keys`, 'POST', admin, {
        name: 'bridge-race',
        algorithm: 'bls12-381',
        purpose: 'bridge',
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await request(`${a.url}/v1/principals`, 'POST', admin, {
        name: 'relayer',
        role: 'bridge',
        scopes: ['bridge-race'],
      })
    ).status,
  ).toBe(201);
  token = (await request(`${a.url}/v1/principals/relayer/tokens`, 'POST', admin, {})).body.token;
  // Warm both processes (key record, unwrapped secret, workers) so the race is one of transactions.
  for (const p of [a, b]) expect((await sign(p, 0, '0x00')).status).toBe(200);
}, 180_000);

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const c of cleanups) await c();
});

const now = Math.floor(Date.now() / 1000);
const sign = (p: KmsProcess, nonce: number, payload: string) =>
  request(`${p.url}/v1/bridge/bridge-race/signatures`, 'POST', token, {
    sourceChainId: '122',
    targetChainId: '120',
    nonce: String(nonce),
    timestamp: String(now),
    payload,
  });

describe('bridge nonces on two processes', () => {
  it('different messages racing for one nonce: exactly one 200, the rest 409 NONCE_REUSED', async () => {
    for (let nonce = 1; nonce <= 8; nonce++) {
      const racers = Array.from({ length: 8 }, (_, i) => ({
        proc: i % 2 === 0 ? a : b,
        payload: `0x${nonce.toString(16).padStart(2, '0')}${i.toString(16).padStart(2, '0')}`,
      }));
      const replies = await Promise.all(racers.map((r) => sign(r.proc, nonce, r.payload)));
      const won = replies.flatMap((r, i) => (r.status === 200 ? [i] : []));
      expect(won, `nonce ${nonce}`).toHaveLength(1);
      expect(
        replies.filter((r) => r.status === 409 && r.body.error.code === 'NONCE_REUSED'),
      ).toHaveLength(racers.length - 1);
      const winner = racers[won[0]!]!;
      for (const p of [a, b])
        expect((await sign(p, nonce, winner.payload)).body).toEqual(replies[won[0]!]!.body);
    }
  });

  it('the identical message sent to both processes at once: every reply is the same signature', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sign(i % 2 === 0 ? a : b, 100, '0xabcdef')),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const r of replies) expect(r.body).toEqual(replies[0]!.body);
  });
});
