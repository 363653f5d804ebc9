import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { spawnKms, adminTokenOf, request, type KmsProcess } from '../support/process.js';
import { createPgDatabase, testStore } from '../support/store.js';

const procs: KmsProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const c of cleanups) await c();
});

describe('KMS process', () => {
  it('starts, serves readyz, and restarts on the same data', async () => {
    let databaseUrl: string | undefined;
    if (testStore() === 'postgres') {
      const db = await createPgDatabase();
      databaseUrl = db.url;
      cleanups.push(db.drop);
    }
    const first = await spawnKms({ ...(databaseUrl ? { databaseUrl } : {}) });
    procs.push(first);
    cleanups.push(async () => rmSync(first.dataDir, { recursive: true, force: true }));
    expect((await request(`${first.url}/readyz`, 'GET', null)).status).toBe(200);
    const token = adminTokenOf(first.dataDir);
    expect(
      (
        await request(`${first.url}/v1/keys`, 'POST', token, {
          name: 'p',
          algorithm: 'ed25519',
          purpose: 'signing',
        })
      ).status,
    ).toBe(201);
    expect(await first.kill('SIGTERM')).toBe(0);
    const second = await spawnKms({
      dataDir: first.dataDir,
      ...(databaseUrl ? { databaseUrl } : {}),
    });
    procs.push(second);
    const key = await request(`${second.url}/v1/keys/p`, 'GET', token);
    expect(key.status).toBe(200);
    expect(key.body.publicKey).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
