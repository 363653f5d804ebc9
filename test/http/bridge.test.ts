/**
 * API.md "Bridge" through the HTTP server on both engines: signatures checked with @noble/curves
 * against a messageHash recomputed here, replay protection, the chain and time refusals, field
 * errors, roles and scopes, the audit trail and durability (bridge-verify.test.ts has the verify).
 * Chain 121 signs under SIG_POP in this config, so the target chain's tag is really the one used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, principalToken, type Reply, type TestKms } from '../support/kms.js';
import {
  NUL,
  POP,
  bridgeMessage,
  bytes,
  expectedHash,
  hex,
  pkOf,
  sigs,
  sk,
  type Msg,
} from '../support/bridge.js';

const T0 = Date.UTC(2025, 0, 1) / 1000;
let clockMs = T0 * 1000;

let t: TestKms;
let relayer: string; // role bridge, scope bridge-a and bridge-b
let outsider: string; // role bridge, scope bridge-c only

const msg = (o: Partial<Msg> = {}): Msg => bridgeMessage(T0, o);

const sign = (key: string, body: unknown, token = relayer): Promise<Reply> =>
  t.call('POST', `/v1/bridge/${key}/signatures`, { token, body });

function expectError(r: Reply, status: number, code: string, field?: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  if (field)
    expect(r.body.error.message).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} `));
}

beforeAll(async () => {
  t = await startKms({
    now: () => clockMs,
    config: {
      chains: [
        { id: 122, name: 'zoo' },
        { id: 120, name: 'lux' },
        { id: 121, name: 'hanzo', signature_tag: 'SIG_POP' },
      ],
    },
  });
  const keys: [string, number, string, string[]?][] = [
    ['bridge-a', 1, 'bridge'],
    ['bridge-b', 2, 'bridge', ['120']],
    ['bridge-c', 3, 'bridge'],
    ['val-1', 4, 'validator'],
  ];
  for (const [name, i, purpose, chains] of keys) {
    const r = await t.call('POST', '/v1/keys/import', {
      body: {
        name,
        algorithm: 'bls12-381',
        purpose,
        privateKey: hex(sk(i)),
        ...(chains ? { chains } : {}),
      },
    });
    expect(r.status).toBe(201);
  }
  expect(
    (
      await t.call('POST', '/v1/keys', {
        body: { name: 'sig-1', algorithm: 'ed25519', purpose: 'signing' },
      })
    ).status,
  ).toBe(201);
  relayer = await principalToken(t, 'relayer', 'bridge', ['bridge-a', 'bridge-b']);
  outsider = await principalToken(t, 'outsider', 'bridge', ['bridge-c']);
});
afterAll(async () => {
  await t?.close();
});

describe('POST /v1/bridge/{key}/signatures', () => {
  it('signs the recomputed messageHash under the target chain tag (noble verifies)', async () => {
    for (const [target, tag, other] of [
      ['120', NUL, POP],
      ['121', POP, NUL],
    ] as const) {
      const m = msg({ targetChainId: target, nonce: '100' });
      const r = await sign('bridge-a', m);
      expect(r.status).toBe(200);
      const hash = expectedHash(m);
      expect(r.body.messageHash).toBe(hex(hash));
      expect(r.body.publicKey).toBe(hex(pkOf(1)));
      expect(r.body.signature).toMatch(/^0x[0-9a-f]{192}$/);
      const sig = bytes(r.body.signature);
      expect(sigs.verify(sig, sigs.hash(hash, tag), pkOf(1))).toBe(true);
      expect(sigs.verify(sig, sigs.hash(hash, other), pkOf(1))).toBe(false);
    }
  });

  it('an identical retry returns the same signature; JSON integers and strings are the same message', async () => {
    const m = msg({ nonce: '200' });
    const first = await sign('bridge-a', m);
    expect(first.status).toBe(200);
    const again = await sign('bridge-a', m);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const asNumbers = await sign('bridge-a', {
      ...m,
      sourceChainId: 122,
      targetChainId: 120,
      nonce: 200,
      timestamp: T0,
    });
    expect(asNumbers.body).toEqual(first.body);
  });

  it('a different message under a used nonce is 409 NONCE_REUSED; nonces are per key and target chain', async () => {
    expect((await sign('bridge-a', msg({ nonce: '300' }))).status).toBe(200);
    expectError(
      await sign('bridge-a', msg({ nonce: '300', payload: '0xc0ffef' })),
      409,
      'NONCE_REUSED',
    );
    expectError(
      await sign('bridge-a', msg({ nonce: '300', timestamp: String(T0 - 1) })),
      409,
      'NONCE_REUSED',
    );
    expect(
      (await sign('bridge-a', msg({ nonce: '300', targetChainId: '121', payload: '0xc0ffef' })))
        .status,
    ).toBe(200);
    expect((await sign('bridge-b', msg({ nonce: '300', payload: '0xc0ffef' }))).status).toBe(200);
    // The original message is still the one recorded: its retry still succeeds.
    expect((await sign('bridge-a', msg({ nonce: '300' }))).status).toBe(200);
  });

  it('nonces belong to the BLS public key: the same secret under another name cannot reuse one', async () => {
    const r = await t.call('POST', '/v1/keys/import', {
      body: {
        name: 'bridge-a-copy',
        algorithm: 'bls12-381',
        purpose: 'bridge',
        privateKey: hex(sk(1)),
      },
    });
    expect(r.status).toBe(201);
    expect((await sign('bridge-a', msg({ nonce: '350' }))).status).toBe(200);
    expectError(
      await sign('bridge-a-copy', msg({ nonce: '350', payload: '0x00' }), t.adminToken),
      409,
      'NONCE_REUSED',
    );
  });

  it('MESSAGE_EXPIRED beyond max_age and TIMESTAMP_IN_FUTURE beyond max_skew, by the server clock', async () => {
    expectError(
      await sign('bridge-a', msg({ nonce: '400', timestamp: String(T0 - 3601) })),
      422,
      'MESSAGE_EXPIRED',
    );
    expect(
      (await sign('bridge-a', msg({ nonce: '401', timestamp: String(T0 - 3600) }))).status,
    ).toBe(200);
    expectError(
      await sign('bridge-a', msg({ nonce: '402', timestamp: String(T0 + 31) })),
      422,
      'TIMESTAMP_IN_FUTURE',
    );
    expect((await sign('bridge-a', msg({ nonce: '403', timestamp: String(T0 + 30) }))).status).toBe(
      200,
    );
    clockMs += 3631_000; // the message is now 3601 s old
    try {
      expectError(
        await sign('bridge-a', msg({ nonce: '403', timestamp: String(T0 + 30) })),
        422,
        'MESSAGE_EXPIRED',
      );
    } finally {
      clockMs -= 3631_000;
    }
  });

  it('CHAIN_NOT_ALLOWED for a foreign source, a target outside the allow list, or outside the key chains', async () => {
    expectError(
      await sign('bridge-a', msg({ nonce: '500', sourceChainId: '120' })),
      422,
      'CHAIN_NOT_ALLOWED',
    );
    expectError(
      await sign('bridge-a', msg({ nonce: '501', targetChainId: '122' })),
      422,
      'CHAIN_NOT_ALLOWED',
    );
    expectError(
      await sign('bridge-a', msg({ nonce: '502', targetChainId: '7' })),
      422,
      'CHAIN_NOT_ALLOWED',
    );
    expectError(
      await sign('bridge-b', msg({ nonce: '503', targetChainId: '121' })),
      422,
      'CHAIN_NOT_ALLOWED',
    );
    expect((await sign('bridge-b', msg({ nonce: '503', targetChainId: '120' }))).status).toBe(200);
  });

  it('400 naming the field: bad hex, oversize payload, non-numeric nonce, JSON integer above 2^53-1', async () => {
    expectError(
      await sign('bridge-a', msg({ payload: '0xzz' })),
      400,
      'INVALID_REQUEST',
      'payload',
    );
    expectError(
      await sign('bridge-a', msg({ payload: 'c0ffee' })),
      400,
      'INVALID_REQUEST',
      'payload',
    );
    expectError(
      await sign('bridge-a', msg({ payload: '0x' + '00'.repeat(65_537) })),
      400,
      'INVALID_REQUEST',
      'payload',
    );
    expect(
      (await sign('bridge-a', msg({ nonce: '600', payload: '0x' + '00'.repeat(65_536) }))).status,
    ).toBe(200);
    expectError(await sign('bridge-a', msg({ nonce: 'one' })), 400, 'INVALID_REQUEST', 'nonce');
    expectError(
      await sign('bridge-a', msg({ timestamp: '2025-01-01' })),
      400,
      'INVALID_REQUEST',
      'timestamp',
    );
    expectError(
      await sign('bridge-a', msg({ targetChainId: '-1' })),
      400,
      'INVALID_REQUEST',
      'targetChainId',
    );
    const raw = JSON.stringify(msg({ nonce: 601 })).replace(
      '"nonce":601',
      '"nonce":9007199254740993',
    );
    const big = await t.call('POST', '/v1/bridge/bridge-a/signatures', {
      token: relayer,
      body: raw,
      headers: { 'content-type': 'application/json' },
    });
    expectError(big, 400, 'INVALID_REQUEST', 'nonce');
    expectError(await sign('bridge-a', { ...msg(), extra: 1 }), 400, 'INVALID_REQUEST', 'extra');
  });

  it('refuses keys that are not usable bridge keys', async () => {
    expectError(await sign('val-1', msg({ nonce: '700' }), t.adminToken), 422, 'WRONG_PURPOSE');
    expectError(
      await sign('bridge-missing', msg({ nonce: '700' }), t.adminToken),
      404,
      'NOT_FOUND',
    );
    expect((await t.call('PATCH', '/v1/keys/bridge-c', { body: { enabled: false } })).status).toBe(
      200,
    );
    expectError(await sign('bridge-c', msg({ nonce: '700' }), outsider), 409, 'KEY_DISABLED');
    expect((await t.call('PATCH', '/v1/keys/bridge-c', { body: { enabled: true } })).status).toBe(
      200,
    );
  });
});

describe('roles and scopes', () => {
  it('a bridge token gets 403 on routes of other roles', async () => {
    const validator = await t.call('POST', '/v1/validators/val-1/block-signatures', {
      token: relayer,
      body: { chainId: '122', height: '1', round: 0, blockHash: hex(new Uint8Array(32)) },
    });
    const signing = await t.call('POST', '/v1/keys/sig-1/sign', {
      token: relayer,
      body: { message: 'aGk=' },
    });
    const admin = await t.call('POST', '/v1/keys', {
      token: relayer,
      body: { name: 'mine', algorithm: 'bls12-381', purpose: 'bridge' },
    });
    const pop = await t.call('POST', '/v1/validators/val-1/proof-of-possession', {
      token: relayer,
      body: { chainId: '122' },
    });
    const codes = [validator, pop, signing, admin].map((r) => [r.status, r.body?.error?.code]);
    expect(codes).toEqual(Array(4).fill([403, 'FORBIDDEN']));
  });

  it('a bridge token gets 403 for a bridge key outside its scopes, existing or not', async () => {
    expectError(await sign('bridge-c', msg({ nonce: '800' })), 403, 'FORBIDDEN');
    expectError(await sign('bridge-zzz', msg({ nonce: '800' })), 403, 'FORBIDDEN');
    expectError(await sign('bridge-a', msg({ nonce: '800' }), outsider), 403, 'FORBIDDEN');
    const v = await principalToken(t, 'validator-node', 'validator', ['bridge-a']);
    expectError(await sign('bridge-a', msg({ nonce: '800' }), v), 403, 'FORBIDDEN');
  });
});

describe('audit', () => {
  it('every signature and refusal is one audit event, with the messageHash as digest', async () => {
    const token = await principalToken(t, 'audited-relayer', 'bridge', ['bridge-a']);
    const ok = await sign('bridge-a', msg({ nonce: '900' }), token);
    const steps: [Reply, string | null][] = [
      [ok, null],
      [await sign('bridge-a', msg({ nonce: '900' }), token), null],
      [await sign('bridge-a', msg({ nonce: '900', payload: '0x01' }), token), 'NONCE_REUSED'],
      [
        await sign('bridge-a', msg({ nonce: '901', timestamp: String(T0 - 7200) }), token),
        'MESSAGE_EXPIRED',
      ],
      [
        await sign('bridge-a', msg({ nonce: '902', timestamp: String(T0 + 600) }), token),
        'TIMESTAMP_IN_FUTURE',
      ],
      [
        await sign('bridge-a', msg({ nonce: '903', sourceChainId: '121' }), token),
        'CHAIN_NOT_ALLOWED',
      ],
      [await sign('bridge-a', msg({ nonce: '904', payload: '0xg' }), token), 'INVALID_REQUEST'],
      [await sign('bridge-a', msg({ nonce: 'x' }), token), 'INVALID_REQUEST'],
      [await sign('bridge-c', msg({ nonce: '905' }), token), 'FORBIDDEN'],
    ];
    const r = await t.call('GET', '/v1/audit/events?limit=1000&principal=audited-relayer');
    const events = (
      r.body.events as {
        seq: number;
        action: string;
        key: string;
        outcome: string;
        code: string | null;
        digest: string | null;
        details: Record<string, unknown> | null;
      }[]
    ).sort((a, b) => a.seq - b.seq);
    expect(events.map((e) => [e.action, e.key, e.outcome, e.code])).toEqual(
      steps.map(([, code], i) => [
        'bridge.sign',
        i === steps.length - 1 ? 'bridge-c' : 'bridge-a',
        code ? 'refused' : 'success',
        code,
      ]),
    );
    expect(steps.map(([reply]) => reply.status)).toEqual([
      200, 200, 409, 422, 422, 422, 400, 400, 403,
    ]);
    expect(events[0]!.digest).toBe(ok.body.messageHash.slice(2));
    expect(events[0]!.details).toEqual({
      sourceChainId: '122',
      targetChainId: '120',
      nonce: '900',
      timestamp: String(T0),
      payloadBytes: 3,
    });
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});

describe('durability', () => {
  it('used nonces survive a restart: the retry gets the same signature, another message is refused', async () => {
    const m = msg({ nonce: '1300' });
    const first = await sign('bridge-a', m);
    t = await t.restart();
    relayer = await principalToken(t, 'relayer-after-restart', 'bridge', ['bridge-a']);
    expect((await sign('bridge-a', m)).body).toEqual(first.body);
    expectError(await sign('bridge-a', msg({ nonce: '1300', payload: '0x' })), 409, 'NONCE_REUSED');
  });
});
