/**
 * API.md "Validators" through the real HTTP server on the project's engine: signatures checked by
 * @noble/curves against a signing root rebuilt here from the spec text (not from src), the
 * double-sign refusals, watermark and counter, the slashing-protection interchange, the rate
 * limit, roles and scopes, and one audit event per operation. Also the Ethereum `verify` and
 * `fast_aggregate_verify` vectors through POST /v1/verify.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalToken, startKms, type TestKms } from '../support/kms.js';
import { hex as bytes, readFolder } from '../crypto/vectors.js';

const SIG_NUL = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_';
const SIG_POP = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const POP_PROVE = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const sigs = bls12_381.longSignatures;

const toHex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex');
const secret = (label: string) =>
  sha256(new TextEncoder().encode(`validator test ${label}`)).map((b, i) =>
    i === 0 ? b & 0x3f : b,
  );
const hash = (label: string) => toHex(sha256(new TextEncoder().encode(label)));

/** API.md: SHA-256(utf8("zoo-kms/validator/block/v1") || u64be(chainId) || u64be(height) || u32be(round) || blockHash). */
function signingRoot(
  chainId: bigint,
  height: bigint,
  round: number,
  blockHash: string,
): Uint8Array {
  const fixed = new Uint8Array(20);
  const view = new DataView(fixed.buffer);
  view.setBigUint64(0, chainId);
  view.setBigUint64(8, height);
  view.setUint32(16, round);
  return sha256(
    new Uint8Array([
      ...new TextEncoder().encode('zoo-kms/validator/block/v1'),
      ...fixed,
      ...bytes(blockHash),
    ]),
  );
}

function verifies(signature: string, message: Uint8Array, publicKey: string, tag: string): boolean {
  return sigs.verify(bytes(signature), sigs.hash(message, tag), bytes(publicKey));
}

let t: TestKms;
let node: string;
beforeAll(async () => {
  t = await startKms();
  node = await principalToken(t, 'node-1', 'validator', ['val-*']);
});
afterAll(async () => {
  await t?.close();
});

async function importKey(
  kms: TestKms,
  name: string,
  label: string,
  extra: Record<string, unknown> = {},
) {
  const r = await kms.call('POST', '/v1/keys/import', {
    body: {
      name,
      algorithm: 'bls12-381',
      purpose: 'validator',
      privateKey: toHex(secret(label)),
      ...extra,
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.publicKey as string;
}

function sign(
  kms: TestKms,
  key: string,
  block: {
    chainId?: string | number;
    height: string | number;
    round: string | number;
    blockHash: string;
  },
  token: string | undefined = node,
) {
  return kms.call('POST', `/v1/validators/${key}/block-signatures`, {
    token,
    body: { chainId: '122', ...block },
  });
}

describe('block signatures', () => {
  let pk: string;
  beforeAll(async () => {
    pk = await importKey(t, 'val-a', 'a');
  });

  it('signs the spec signing root under SIG_NUL, verified by @noble/curves', async () => {
    const blockHash = hash('block 10');
    const r = await sign(t, 'val-a', { height: '10', round: 0, blockHash });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const root = signingRoot(122n, 10n, 0, blockHash);
    expect(r.body).toMatchObject({
      publicKey: pk,
      signingRoot: toHex(root),
      chainId: '122',
      height: '10',
      round: '0',
      counter: '1',
    });
    expect(r.body.signature).toMatch(/^0x[0-9a-f]{192}$/);
    expect(verifies(r.body.signature, root, pk, SIG_NUL)).toBe(true);
    expect(verifies(r.body.signature, root, pk, SIG_POP)).toBe(false);
  });

  it('returns the same signature for the same request, without counting it again', async () => {
    const body = { height: '11', round: '2', blockHash: hash('block 11') };
    const first = await sign(t, 'val-a', body);
    const again = await sign(t, 'val-a', { ...body, height: 11, round: 2 });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(first.body.counter).toBe('2');
  });

  it('refuses another block at the same height and round: 409 DOUBLE_SIGN', async () => {
    const r = await sign(t, 'val-a', {
      height: '11',
      round: '2',
      blockHash: hash('another block 11'),
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('DOUBLE_SIGN');
  });

  it('refuses a lower (height, round), a lower round at the same height included: 409 HEIGHT_REGRESSION', async () => {
    for (const [height, round] of [
      ['10', '5'],
      ['11', '1'],
      ['3', '0'],
    ]) {
      const r = await sign(t, 'val-a', {
        height: height!,
        round: round!,
        blockHash: hash(`regress ${height} ${round}`),
      });
      expect(r.status, `${height}/${round}`).toBe(409);
      expect(r.body.error.code).toBe('HEIGHT_REGRESSION');
    }
    const higherRound = await sign(t, 'val-a', {
      height: '11',
      round: '3',
      blockHash: hash('block 11 round 3'),
    });
    expect(higherRound.status).toBe(200);
    const oldRound = await sign(t, 'val-a', {
      height: '11',
      round: '2',
      blockHash: hash('block 11'),
    });
    expect(oldRound.body.error.code).toBe('HEIGHT_REGRESSION');
  });

  it('reports the watermark and the per-key counter (all chains of the key)', async () => {
    const lux = await sign(t, 'val-a', {
      chainId: '120',
      height: '1',
      round: '0',
      blockHash: hash('lux 1'),
    });
    expect(lux.status).toBe(200);
    expect(verifies(lux.body.signature, signingRoot(120n, 1n, 0, hash('lux 1')), pk, SIG_NUL)).toBe(
      true,
    );
    expect(lux.body.counter).toBe('4');
    const w = await t.call('GET', '/v1/validators/val-a/watermark?chainId=122', { token: node });
    expect(w.status).toBe(200);
    expect(w.body).toEqual({
      chainId: '122',
      height: '11',
      round: '3',
      blockHash: hash('block 11 round 3'),
      signingRoot: toHex(signingRoot(122n, 11n, 3, hash('block 11 round 3'))),
      counter: '4',
    });
    const none = await t.call('GET', '/v1/validators/val-a/watermark?chainId=121', { token: node });
    expect(none.body).toEqual({
      chainId: '121',
      height: null,
      round: null,
      blockHash: null,
      signingRoot: null,
      counter: '4',
    });
  });

  it('signs heights beyond 2^53 given as decimal strings', async () => {
    const height = (2n ** 64n - 2n).toString();
    const r = await sign(t, 'val-a', {
      chainId: '121',
      height,
      round: '4294967295',
      blockHash: hash('huge'),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(
      verifies(
        r.body.signature,
        signingRoot(121n, 2n ** 64n - 2n, 4294967295, hash('huge')),
        pk,
        SIG_NUL,
      ),
    ).toBe(true);
    const below = await sign(t, 'val-a', {
      chainId: '121',
      height: (2n ** 64n - 3n).toString(),
      round: '4294967295',
      blockHash: hash('huge'),
    });
    expect(below.body.error.code).toBe('HEIGHT_REGRESSION');
  });

  it('proof of possession verifies under POP_PROVE', async () => {
    const r = await t.call('POST', '/v1/validators/val-a/proof-of-possession', {
      token: node,
      body: { chainId: 122 },
    });
    expect(r.status).toBe(200);
    expect(r.body.publicKey).toBe(pk);
    expect(verifies(r.body.proofOfPossession, bytes(pk), pk, POP_PROVE)).toBe(true);
    expect(verifies(r.body.proofOfPossession, bytes(pk), pk, SIG_NUL)).toBe(false);
  });

  it('refuses a chain outside the key: 422 CHAIN_NOT_ALLOWED', async () => {
    await importKey(t, 'val-zoo-only', 'zoo only', { chains: ['122'] });
    const lux = await sign(t, 'val-zoo-only', {
      chainId: '120',
      height: '1',
      round: '0',
      blockHash: hash('x'),
    });
    expect(lux.status).toBe(422);
    expect(lux.body.error.code).toBe('CHAIN_NOT_ALLOWED');
    const unknown = await sign(t, 'val-a', {
      chainId: '999',
      height: '1',
      round: '0',
      blockHash: hash('x'),
    });
    expect(unknown.body.error.code).toBe('CHAIN_NOT_ALLOWED');
    const pop = await t.call('POST', '/v1/validators/val-zoo-only/proof-of-possession', {
      token: node,
      body: { chainId: '121' },
    });
    expect(pop.body.error.code).toBe('CHAIN_NOT_ALLOWED');
    const ok = await sign(t, 'val-zoo-only', {
      chainId: '122',
      height: '1',
      round: '0',
      blockHash: hash('x'),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses other purposes, disabled keys and malformed fields', async () => {
    expect(
      (
        await t.call('POST', '/v1/keys', {
          body: { name: 'val-signing', algorithm: 'ed25519', purpose: 'signing' },
        })
      ).status,
    ).toBe(201);
    const wrong = await sign(t, 'val-signing', { height: '1', round: '0', blockHash: hash('x') });
    expect([wrong.status, wrong.body.error.code]).toEqual([422, 'WRONG_PURPOSE']);
    await importKey(t, 'val-off', 'off');
    expect((await t.call('PATCH', '/v1/keys/val-off', { body: { enabled: false } })).status).toBe(
      200,
    );
    const off = await sign(t, 'val-off', { height: '1', round: '0', blockHash: hash('x') });
    expect([off.status, off.body.error.code]).toEqual([409, 'KEY_DISABLED']);
    const missing = await sign(t, 'val-missing', { height: '1', round: '0', blockHash: hash('x') });
    expect(missing.status).toBe(404);
    const bad: [Record<string, unknown>, string][] = [
      [{ height: '1', round: '0', blockHash: '0x' + 'ab'.repeat(31) }, 'blockHash'],
      [{ height: '1', round: '0', blockHash: '0x' + 'AB'.repeat(32) }, 'blockHash'],
      [{ height: '1', round: '4294967296', blockHash: hash('x') }, 'round'],
      [{ height: '18446744073709551616', round: '0', blockHash: hash('x') }, 'height'],
      [{ height: 2 ** 53, round: '0', blockHash: hash('x') }, 'height'],
      [{ chainId: null, height: '1', round: '0', blockHash: hash('x') }, 'chainId'],
    ];
    for (const [body, field] of bad) {
      const r = await t.call('POST', '/v1/validators/val-a/block-signatures', {
        token: node,
        body: { chainId: '122', ...body },
      });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });
});

describe('roles and scopes', () => {
  it('answers 403 outside the scopes (existing or not) and to other roles', async () => {
    await importKey(t, 'val-b', 'b');
    const other = await principalToken(t, 'node-2', 'validator', ['mine-*']);
    const signer = await principalToken(t, 'signer', 'signing', ['val-b']);
    const body = { height: '1', round: '0', blockHash: hash('b1') };
    for (const [token, key] of [
      [other, 'val-b'],
      [other, 'val-does-not-exist'],
      [signer, 'val-b'],
    ] as const) {
      expect((await sign(t, key, body, token)).status).toBe(403);
      expect(
        (
          await t.call('POST', `/v1/validators/${key}/proof-of-possession`, {
            token,
            body: { chainId: '122' },
          })
        ).status,
      ).toBe(403);
      expect(
        (await t.call('GET', `/v1/validators/${key}/watermark?chainId=122`, { token })).status,
      ).toBe(403);
    }
    expect(
      (await t.call('GET', '/v1/validators/slashing-protection?chainId=122', { token: node }))
        .status,
    ).toBe(403);
    const file = {
      metadata: { interchange_format_version: 'zoo-kms/1', chainId: '122' },
      data: [],
    };
    expect(
      (await t.call('POST', '/v1/validators/slashing-protection', { token: node, body: file }))
        .status,
    ).toBe(403);
    expect((await sign(t, 'val-b', body)).status).toBe(200);
  });
});

describe('audit', () => {
  async function events(key: string) {
    const r = await t.call('GET', `/v1/audit/events?key=${key}&limit=1000`);
    expect(r.status).toBe(200);
    return r.body.events as {
      action: string;
      outcome: string;
      code: string | null;
      principal: string;
      digest: string | null;
    }[];
  }

  it('records every signature and every refusal as one event', async () => {
    await importKey(t, 'val-audit', 'audit', { chains: ['122'] });
    const outsider = await principalToken(t, 'node-3', 'validator', ['nothing']);
    const steps: [() => Promise<{ status: number }>, string, string, string | null][] = [
      [
        () => sign(t, 'val-audit', { height: '5', round: '0', blockHash: hash('a5') }),
        'validator.block_signature',
        'success',
        null,
      ],
      [
        () => sign(t, 'val-audit', { height: '5', round: '0', blockHash: hash('a5') }),
        'validator.block_signature',
        'success',
        null,
      ],
      [
        () => sign(t, 'val-audit', { height: '5', round: '0', blockHash: hash('b5') }),
        'validator.block_signature',
        'refused',
        'DOUBLE_SIGN',
      ],
      [
        () => sign(t, 'val-audit', { height: '4', round: '0', blockHash: hash('a4') }),
        'validator.block_signature',
        'refused',
        'HEIGHT_REGRESSION',
      ],
      [
        () =>
          sign(t, 'val-audit', { chainId: '120', height: '6', round: '0', blockHash: hash('a6') }),
        'validator.block_signature',
        'refused',
        'CHAIN_NOT_ALLOWED',
      ],
      [
        () => sign(t, 'val-audit', { height: '6', round: '0', blockHash: hash('a6') }, outsider),
        'validator.block_signature',
        'refused',
        'FORBIDDEN',
      ],
      [
        () =>
          t.call('POST', '/v1/validators/val-audit/proof-of-possession', {
            token: node,
            body: { chainId: '122' },
          }),
        'validator.proof_of_possession',
        'success',
        null,
      ],
      [
        () => t.call('GET', '/v1/validators/val-audit/watermark?chainId=122', { token: node }),
        'validator.watermark',
        'success',
        null,
      ],
    ];
    let seen = (await events('val-audit')).length;
    for (const [run, action, outcome, code] of steps) {
      const status = (await run()).status;
      const all = await events('val-audit');
      expect(all.length, `${action} ${code}`).toBe(seen + 1);
      expect(all.at(-1), `${action} ${code} (${status})`).toMatchObject({ action, outcome, code });
      seen = all.length;
    }
    const signed = (await events('val-audit')).find(
      (e) => e.action === 'validator.block_signature' && e.outcome === 'success',
    );
    expect(signed?.digest).toBe(Buffer.from(signingRoot(122n, 5n, 0, hash('a5'))).toString('hex'));
    expect((await t.call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});

describe('slashing protection interchange', () => {
  let empty: TestKms;
  let xPk: string;
  let exported: any;
  let firstSignature: string;
  beforeAll(async () => {
    empty = await startKms();
  });
  afterAll(async () => {
    await empty?.close();
  });

  it('exports each key watermark of a chain', async () => {
    xPk = await importKey(t, 'val-x', 'x');
    expect(
      (await sign(t, 'val-x', { height: '5', round: '0', blockHash: hash('x5') })).status,
    ).toBe(200);
    const top = await sign(t, 'val-x', { height: '7', round: '2', blockHash: hash('x7') });
    firstSignature = top.body.signature;
    const r = await t.call('GET', '/v1/validators/slashing-protection?chainId=122');
    expect(r.status).toBe(200);
    exported = r.body;
    expect(exported.metadata).toEqual({ interchange_format_version: 'zoo-kms/1', chainId: '122' });
    expect(exported.data).toContainEqual({
      pubkey: xPk,
      signed_blocks: [
        { height: '7', round: '2', signing_root: toHex(signingRoot(122n, 7n, 2, hash('x7'))) },
      ],
    });
    expect((await t.call('GET', '/v1/validators/slashing-protection')).status).toBe(400);
  });

  it('restores the watermarks into an empty store before the key is imported', async () => {
    const before = await empty.call('GET', '/v1/validators/slashing-protection?chainId=122');
    expect(before.body.data).toEqual([]);
    const imported = await empty.call('POST', '/v1/validators/slashing-protection', {
      body: exported,
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.keys).toBe(exported.data.length);
    const after = await empty.call('GET', '/v1/validators/slashing-protection?chainId=122');
    expect(after.body.data).toContainEqual(exported.data.find((d: any) => d.pubkey === xPk));
    expect((await empty.call('GET', '/v1/keys')).body.keys.map((k: any) => k.name)).not.toContain(
      'val-x',
    );
    await importKey(empty, 'val-x', 'x');
    const token = await principalToken(empty, 'node-1', 'validator', ['val-*']);
    const s = (height: string, round: string, label: string) =>
      sign(empty, 'val-x', { height, round, blockHash: hash(label) }, token);
    expect((await s('7', '1', 'x7 r1')).body.error.code).toBe('HEIGHT_REGRESSION');
    expect((await s('6', '9', 'x6')).body.error.code).toBe('HEIGHT_REGRESSION');
    expect((await s('7', '2', 'another x7')).body.error.code).toBe('DOUBLE_SIGN');
    // The imported signing root matches the same block: BLS is deterministic, same signature.
    const same = await s('7', '2', 'x7');
    expect(same.status).toBe(200);
    expect(same.body.signature).toBe(firstSignature);
    expect((await s('8', '0', 'x8')).status).toBe(200);
  });

  it('never lowers a watermark when an older file is imported', async () => {
    const token = await principalToken(empty, 'node-older', 'validator', ['val-*']);
    expect(
      (await empty.call('POST', '/v1/validators/slashing-protection', { body: exported })).body
        .raised,
    ).toBe(0);
    const after = await empty.call('GET', '/v1/validators/slashing-protection?chainId=122');
    expect(after.body.data.find((d: any) => d.pubkey === xPk).signed_blocks).toEqual([
      { height: '8', round: '0', signing_root: toHex(signingRoot(122n, 8n, 0, hash('x8'))) },
    ]);
    expect(
      (await sign(empty, 'val-x', { height: '7', round: '3', blockHash: hash('x7 r3') }, token))
        .body.error.code,
    ).toBe('HEIGHT_REGRESSION');
    // An equal pair with another root makes the block at (8, 0) unknown: nothing re-signs there.
    const conflicting = {
      ...exported,
      data: [
        {
          pubkey: xPk,
          signed_blocks: [{ height: 8, round: 0, signing_root: hash('a different root') }],
        },
      ],
    };
    expect(
      (await empty.call('POST', '/v1/validators/slashing-protection', { body: conflicting })).body
        .raised,
    ).toBe(1);
    expect(
      (await sign(empty, 'val-x', { height: '8', round: '0', blockHash: hash('x8') }, token)).body
        .error.code,
    ).toBe('DOUBLE_SIGN');
  });

  it('keeps the watermarks when the key is deleted and imported again (same or another name)', async () => {
    const token = await principalToken(empty, 'node-again', 'validator', ['val-*']);
    const counter = (
      await empty.call('GET', '/v1/validators/val-x/watermark?chainId=122', { token })
    ).body.counter;
    expect((await empty.call('DELETE', '/v1/keys/val-x')).status).toBe(200);
    await importKey(empty, 'val-x', 'x');
    await importKey(empty, 'val-x-renamed', 'x');
    for (const name of ['val-x', 'val-x-renamed']) {
      expect(
        (await sign(empty, name, { height: '7', round: '9', blockHash: hash('x7 r9') }, token)).body
          .error.code,
      ).toBe('HEIGHT_REGRESSION');
    }
    const next = await sign(
      empty,
      'val-x-renamed',
      { height: '9', round: '0', blockHash: hash('x9') },
      token,
    );
    expect(next.status).toBe(200);
    expect(BigInt(next.body.counter)).toBe(BigInt(counter) + 1n);
    expect(
      (await sign(empty, 'val-x', { height: '9', round: '0', blockHash: hash('x9') }, token)).body
        .signature,
    ).toBe(next.body.signature);
  });

  it('a block with an unknown signing root blocks re-signing at that height', async () => {
    const yPk = toHex(sigs.getPublicKey(secret('y')).toBytes(true));
    const file = {
      metadata: { interchange_format_version: 'zoo-kms/1', chainId: 122 },
      data: [{ pubkey: yPk, signed_blocks: [{ height: '100', round: '0' }] }],
    };
    expect(
      (await t.call('POST', '/v1/validators/slashing-protection', { body: file })).status,
    ).toBe(200);
    expect(await importKey(t, 'val-y', 'y')).toBe(yPk);
    for (const label of ['y100', 'y100 other']) {
      expect(
        (await sign(t, 'val-y', { height: '100', round: '0', blockHash: hash(label) })).body.error
          .code,
      ).toBe('DOUBLE_SIGN');
    }
    expect(
      (await sign(t, 'val-y', { height: '99', round: '5', blockHash: hash('y99') })).body.error
        .code,
    ).toBe('HEIGHT_REGRESSION');
    expect(
      (await sign(t, 'val-y', { height: '101', round: '0', blockHash: hash('y101') })).status,
    ).toBe(200);
  });

  it('refuses malformed files naming the field, and changes nothing', async () => {
    const base = { metadata: { interchange_format_version: 'zoo-kms/1', chainId: '122' } };
    const bad: [unknown, string][] = [
      [
        { ...base, metadata: { ...base.metadata, interchange_format_version: 'v5' }, data: [] },
        'interchange_format_version',
      ],
      [
        { ...base, data: [{ pubkey: '0x' + '11'.repeat(48), signed_blocks: [] }] },
        'data[0].pubkey',
      ],
      [
        {
          ...base,
          data: [
            { pubkey: xPk, signed_blocks: [{ height: '1', round: '0', signing_root: '0x12' }] },
          ],
        },
        'signing_root',
      ],
      [
        { ...base, data: [{ pubkey: xPk, signed_blocks: [{ height: '1', round: '-1' }] }] },
        'round',
      ],
    ];
    for (const [body, field] of bad) {
      const r = await t.call('POST', '/v1/validators/slashing-protection', { body });
      expect(r.status, field).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });
});

describe('rate limit and chain profiles from config', () => {
  let limited: TestKms;
  beforeAll(async () => {
    limited = await startKms({
      config: {
        validator: { rate_limit: { per_key: '1/m' } },
        chains: [
          { id: 122, name: 'zoo', signature_tag: 'SIG_POP' },
          { id: 7, name: 'custom', signature_tag: SIG_NUL, pop_tag: POP_PROVE },
        ],
      },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 RATE_LIMITED with retry-after, per key, and audits it', async () => {
    const pk1 = await importKey(limited, 'val-r1', 'r1');
    await importKey(limited, 'val-r2', 'r2');
    const first = await sign(
      limited,
      'val-r1',
      { height: '1', round: '0', blockHash: hash('r1') },
      limited.adminToken,
    );
    expect(first.status).toBe(200);
    // The chain's own tag: 122 is configured with SIG_POP here.
    expect(verifies(first.body.signature, signingRoot(122n, 1n, 0, hash('r1')), pk1, SIG_POP)).toBe(
      true,
    );
    const second = await sign(
      limited,
      'val-r1',
      { height: '2', round: '0', blockHash: hash('r2') },
      limited.adminToken,
    );
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('RATE_LIMITED');
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    const other = await sign(
      limited,
      'val-r2',
      { chainId: 7, height: '1', round: '0', blockHash: hash('r2') },
      limited.adminToken,
    );
    expect(other.status).toBe(200);
    const ev = await limited.call(
      'GET',
      '/v1/audit/events?key=val-r1&action=validator.block_signature',
    );
    expect(ev.body.events.map((e: any) => e.code)).toEqual([null, 'RATE_LIMITED']);
    const w = await limited.call('GET', '/v1/validators/val-r1/watermark?chainId=122');
    expect(w.body.height).toBe('1');
  });
});

describe('POST /v1/verify with the Ethereum vectors (SIG_POP)', () => {
  const ETH = 'bls12-381-tests-eth';
  const b64 = (h: string) => Buffer.from(bytes(h)).toString('base64');
  type Verify = { input: { pubkey: string; message: string; signature: string }; output: boolean };
  type Fast = { input: { pubkeys: string[]; message: string; signature: string }; output: boolean };

  it.each(readFolder<Verify>(ETH, 'verify'))('verify %s', async (_name, v) => {
    const r = await t.call('POST', '/v1/verify', {
      token: node,
      body: {
        algorithm: 'bls12-381',
        publicKey: v.input.pubkey,
        message: b64(v.input.message),
        signature: v.input.signature,
        dst: 'SIG_POP',
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ valid: v.output });
  });

  it.each(readFolder<Fast>(ETH, 'fast_aggregate_verify'))(
    'fast_aggregate_verify %s',
    async (_name, v) => {
      const r = await t.call('POST', '/v1/verify', {
        token: node,
        body: {
          algorithm: 'bls12-381',
          publicKeys: v.input.pubkeys,
          message: b64(v.input.message),
          signature: v.input.signature,
          dst: SIG_POP,
        },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toEqual({ valid: v.output });
    },
  );
});
