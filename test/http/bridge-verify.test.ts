/**
 * API.md "Bridge": `POST /v1/bridge/verify` on both engines, for signatures made by the KMS and
 * by @noble/curves outside it: one key, several keys (aggregate over one message), the target
 * chain's tag (121 signs under SIG_POP here), any valid token, and 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type Reply, type TestKms } from '../support/kms.js';
import {
  NUL,
  POP,
  bridgeMessage,
  hex,
  nobleSign,
  pkOf,
  sigs,
  sk,
  type Msg,
} from '../support/bridge.js';

let t: TestKms;
let validator: string; // any valid token may verify: a role that has nothing to do with bridges
const now = Math.floor(Date.now() / 1000);
const msg = (o: Partial<Msg> = {}): Msg => bridgeMessage(now, o);
const verify = (body: unknown, token: string | null = validator): Promise<Reply> =>
  t.call('POST', '/v1/bridge/verify', { token, body });
const pk = (i: number) => hex(pkOf(i));

beforeAll(async () => {
  t = await startKms({
    config: {
      chains: [
        { id: 122, name: 'zoo' },
        { id: 120, name: 'lux' },
        { id: 121, name: 'hanzo', signature_tag: 'SIG_POP' },
      ],
    },
  });
  const r = await t.call('POST', '/v1/keys/import', {
    body: { name: 'bridge-v', algorithm: 'bls12-381', purpose: 'bridge', privateKey: hex(sk(1)) },
  });
  expect(r.status).toBe(201);
  validator = await principalToken(t, 'node', 'validator', []);
});
afterAll(async () => {
  await t?.close();
});

describe('POST /v1/bridge/verify', () => {
  it('a KMS signature is valid; any other message, key or signature is not', async () => {
    const m = msg({ nonce: '10', targetChainId: '121' });
    const s = await t.call('POST', '/v1/bridge/bridge-v/signatures', { body: m });
    expect(s.status).toBe(200);
    const sig = s.body.signature as string;
    expect((await verify({ ...m, publicKey: pk(1), signature: sig })).body).toEqual({
      valid: true,
    });
    for (const other of [
      { payload: '0xc0fff0' },
      { nonce: '11' },
      { timestamp: String(now + 1) },
      { sourceChainId: '120' },
      { targetChainId: '120' },
    ]) {
      expect(
        (await verify({ ...m, ...other, publicKey: pk(1), signature: sig })).body,
        JSON.stringify(other),
      ).toEqual({ valid: false });
    }
    expect((await verify({ ...m, publicKey: pk(2), signature: sig })).body).toEqual({
      valid: false,
    });
    expect(
      (await verify({ ...m, publicKey: pk(1), signature: '0x' + 'ab'.repeat(96) })).body,
    ).toEqual({ valid: false });
    expect(
      (await verify({ ...m, publicKey: '0x' + '00'.repeat(48), signature: sig })).body,
    ).toEqual({ valid: false });
  });

  it('checks under the target chain tag: SIG_NUL for 120, SIG_POP for 121 (config)', async () => {
    for (const [target, tag, other] of [
      ['120', NUL, POP],
      ['121', POP, NUL],
    ] as const) {
      const m = msg({ targetChainId: target });
      expect(
        (await verify({ ...m, publicKey: pk(2), signature: hex(nobleSign(2, m, tag)) })).body,
      ).toEqual({ valid: true });
      expect(
        (await verify({ ...m, publicKey: pk(2), signature: hex(nobleSign(2, m, other)) })).body,
      ).toEqual({ valid: false });
    }
  });

  it('several publicKeys: aggregate verification of one message', async () => {
    const m = msg({ nonce: '20' });
    const agg = hex(
      sigs.Signature.toBytes(sigs.aggregateSignatures([1, 2, 3].map((i) => nobleSign(i, m, NUL)))),
    );
    expect(
      (await verify({ ...m, publicKeys: [pk(1), pk(2), pk(3)], signature: agg })).body,
    ).toEqual({ valid: true });
    expect((await verify({ ...m, publicKeys: [pk(1), pk(2)], signature: agg })).body).toEqual({
      valid: false,
    });
    expect(
      (await verify({ ...m, publicKeys: [pk(1), pk(2), pk(4)], signature: agg })).body,
    ).toEqual({ valid: false });
    expect(
      (await verify({ ...m, nonce: '21', publicKeys: [pk(1), pk(2), pk(3)], signature: agg })).body,
    ).toEqual({ valid: false });
    expect((await verify({ ...m, publicKeys: [], signature: agg })).body).toEqual({ valid: false });
  });

  it('needs a valid token of any role; malformed requests are 400 naming the field', async () => {
    const m = msg({ nonce: '30' });
    const sig = hex(nobleSign(1, m, NUL));
    expect((await verify({ ...m, publicKey: pk(1), signature: sig }, null)).status).toBe(401);
    const cases: [Record<string, unknown>, string][] = [
      [{ signature: sig }, 'publicKey'],
      [{ publicKey: pk(1), publicKeys: [pk(1)], signature: sig }, 'publicKey'],
      [{ publicKey: 'zz', signature: sig }, 'publicKey'],
      [{ publicKeys: [pk(1), '0xz'], signature: sig }, 'publicKeys\\[1\\]'],
      [{ publicKey: pk(1), signature: 'ab' }, 'signature'],
      [{ publicKey: pk(1), signature: sig, nonce: 'n' }, 'nonce'],
      [{ publicKey: pk(1), signature: sig, payload: '0xABCD' }, 'payload'],
      [{ publicKey: pk(1), signature: sig, payload: '0x' + '00'.repeat(65_537) }, 'payload'],
    ];
    for (const [over, field] of cases) {
      const r = await verify({ ...m, ...over });
      expect([r.status, r.body.error.code], field).toEqual([400, 'INVALID_REQUEST']);
      expect(r.body.error.message).toMatch(new RegExp(`^${field} `));
    }
  });

  it('a target chain without a profile has no tag: 422 CHAIN_NOT_ALLOWED', async () => {
    const m = msg({ targetChainId: '9' });
    const r = await verify({ ...m, publicKey: pk(1), signature: hex(nobleSign(1, m, NUL)) });
    expect([r.status, r.body.error.code]).toEqual([422, 'CHAIN_NOT_ALLOWED']);
  });
});
