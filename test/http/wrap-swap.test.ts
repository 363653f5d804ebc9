/**
 * Threat model: an attacker with write access to the database alone (docs/threat-model.md).
 * Copying validator key B's wrap onto key A's row would make a KMS that trusts wraps sign "for A"
 * with B's secret, under A's watermark: a second, different signature by B at a height it already
 * signed. The keyring compares unwrapped material with the recorded public key, so it refuses.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startKms, type TestKms } from '../support/kms.js';

let t: TestKms;
beforeAll(async () => {
  t = await startKms();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

it('refuses to sign under key A with a secret other than A’s (wraps swapped in the database)', async () => {
  const create = (name: string) =>
    t.call('POST', '/v1/keys', { body: { name, algorithm: 'bls12-381', purpose: 'validator' } });
  await create('val-a');
  await create('val-b');
  const sign = (key: string, hash: string) =>
    t.call('POST', `/v1/validators/${key}/block-signatures`, {
      body: { chainId: '122', height: '10', round: '0', blockHash: hash },
    });
  expect((await sign('val-b', '0x' + '01'.repeat(32))).status).toBe(200);
  await sql`update key_wraps set blob = (select w.blob from key_wraps w join keys k on k.id = w.key_id
              where k.name = 'val-b') where key_id = (select id from keys where name = 'val-a')`.execute(
    t.kms.services.deps.db,
  );
  t.kms.services.keyring.forgetAll();
  const second = await sign('val-a', '0x' + '02'.repeat(32));
  expect(second.status, JSON.stringify(second.body)).toBe(500);
  expect(second.body.error.code).toBe('INTERNAL');
  expect(second.body.signature).toBeUndefined();
  // A signature is never released, so there is nothing to verify under B; B's own key still works.
  expect((await sign('val-b', '0x' + '01'.repeat(32))).status).toBe(200);
});
