/**
 * LP-401 bridge messages: `messageHash` recomputed independently (@noble/hashes, and values pinned
 * from Python's hashlib), the field parsers, and a table test of the chain and time rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKmsError, type KmsError } from '../../src/errors.js';
import {
  BRIDGE_DOMAIN,
  checkMessage,
  messageHash,
  parseBridgeMessage,
  type BridgeMessage,
  type BridgeRules,
} from '../../src/services/bridge-message.js';
import { expectedHash } from '../support/bridge.js';

/** API.md "Bridge", written out again without the code under test (test/support/bridge.ts). */
const nobleHash = (m: BridgeMessage): Uint8Array =>
  expectedHash({
    sourceChainId: String(m.sourceChainId),
    targetChainId: String(m.targetChainId),
    nonce: String(m.nonce),
    timestamp: String(m.timestamp),
    payload: '0x' + Buffer.from(m.payload).toString('hex'),
  });

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const msg = (o: Partial<BridgeMessage> = {}): BridgeMessage => ({
  sourceChainId: 122n,
  targetChainId: 120n,
  nonce: 7n,
  timestamp: 1_700_000_000n,
  payload: Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
  ...o,
});

describe('messageHash', () => {
  it('uses the fixed domain string', () => {
    expect(BRIDGE_DOMAIN).toBe('zoo-kms/bridge/lp-401/v1');
  });

  it('matches values computed with Python hashlib on fixed inputs', () => {
    expect(hex(messageHash(msg()))).toBe(
      '30ac4a30dcc79a11104ab42bfe4686367a919a889db25b5fd78ba25af57908c6',
    );
    const edge = msg({
      targetChainId: 121n,
      nonce: (1n << 64n) - 1n,
      timestamp: 0n,
      payload: new Uint8Array(),
    });
    expect(hex(messageHash(edge))).toBe(
      'de8a852d336f792fb35e18e16e08c3e6ce3a363484e1ec4e1ec51b48f5edb0fb',
    );
  });

  it('equals the @noble/hashes recomputation for any fields', () => {
    const u64Arb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(
        u64Arb,
        u64Arb,
        u64Arb,
        u64Arb,
        fc.uint8Array({ maxLength: 300 }),
        (s, t, n, ts, p) => {
          const m = { sourceChainId: s, targetChainId: t, nonce: n, timestamp: ts, payload: p };
          expect(messageHash(m)).toEqual(nobleHash(m));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('changes with every field', () => {
    const base = hex(messageHash(msg()));
    for (const o of [
      { sourceChainId: 121n },
      { targetChainId: 121n },
      { nonce: 8n },
      { timestamp: 1_700_000_001n },
      { payload: Uint8Array.of(0xde, 0xad, 0xbe) },
    ]) {
      expect(hex(messageHash(msg(o)))).not.toBe(base);
    }
  });
});

describe('parseBridgeMessage', () => {
  const good = {
    sourceChainId: '122',
    targetChainId: 120,
    nonce: '18446744073709551615',
    timestamp: 1_700_000_000,
    payload: '0xdeadbeef',
  };
  const refusal = (over: Record<string, unknown>, limit = 4): KmsError => {
    try {
      parseBridgeMessage({ ...good, ...over }, limit);
    } catch (e) {
      if (isKmsError(e)) return e;
      throw e;
    }
    throw new Error('accepted');
  };

  it('accepts decimal strings and safe JSON integers', () => {
    expect(parseBridgeMessage(good, 4)).toEqual({
      sourceChainId: 122n,
      targetChainId: 120n,
      nonce: (1n << 64n) - 1n,
      timestamp: 1_700_000_000n,
      payload: Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
    });
    expect(parseBridgeMessage({ ...good, payload: '0x' }, 4).payload).toEqual(new Uint8Array());
  });

  it.each([
    [{ nonce: 'abc' }, 'nonce'],
    [{ nonce: '-1' }, 'nonce'],
    [{ nonce: '18446744073709551616' }, 'nonce'],
    [{ nonce: 9007199254740992 }, 'nonce'], // 2^53: JSON.parse may have rounded it
    [{ nonce: 1.5 }, 'nonce'],
    [{ sourceChainId: 'zoo' }, 'sourceChainId'],
    [{ targetChainId: -120 }, 'targetChainId'],
    [{ timestamp: '1e9' }, 'timestamp'],
    [{ payload: 'deadbeef' }, 'payload'],
    [{ payload: '0xDEADBEEF' }, 'payload'],
    [{ payload: '0xabc' }, 'payload'],
    [{ payload: '0xdeadbeef00' }, 'payload'],
  ])('%j is a 400 naming %s', (over, field) => {
    const e = refusal(over);
    expect(e.status).toBe(400);
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.message.startsWith(`${field} `)).toBe(true);
  });

  it('the payload limit counts bytes, not hex characters', () => {
    expect(parseBridgeMessage({ ...good, payload: '0x' + '00'.repeat(4) }, 4).payload.length).toBe(
      4,
    );
    expect(refusal({ payload: '0x' + '00'.repeat(5) }).message).toBe(
      'payload must be at most 4 bytes',
    );
  });
});

describe('checkMessage (ZIP-014 chain and time rules)', () => {
  const rules: BridgeRules = {
    chainId: 122n,
    allowedTargets: [120n, 121n],
    maxAgeSeconds: 3600,
    maxSkewSeconds: 30,
  };
  const nowMs = 1_700_000_000_000;
  const ts = (deltaSeconds: number) => BigInt(1_700_000_000 + deltaSeconds);
  const cases: [
    string,
    Partial<BridgeMessage>,
    readonly bigint[] | null,
    number,
    string | undefined,
  ][] = [
    ['fresh message to Lux', {}, [120n, 121n, 122n], nowMs, undefined],
    ['fresh message to Hanzo', { targetChainId: 121n }, [120n, 121n, 122n], nowMs, undefined],
    [
      'source is not our chain',
      { sourceChainId: 120n },
      [120n, 121n, 122n],
      nowMs,
      'CHAIN_NOT_ALLOWED',
    ],
    [
      'target is our own chain (not in allowed targets)',
      { targetChainId: 122n },
      [120n, 121n, 122n],
      nowMs,
      'CHAIN_NOT_ALLOWED',
    ],
    ['target unknown', { targetChainId: 1n }, [120n, 121n, 122n], nowMs, 'CHAIN_NOT_ALLOWED'],
    [
      'target allowed but not among the key chains',
      { targetChainId: 121n },
      [120n],
      nowMs,
      'CHAIN_NOT_ALLOWED',
    ],
    ['no key chain restriction', { targetChainId: 121n }, null, nowMs, undefined],
    ['exactly max age old', { timestamp: ts(-3600) }, null, nowMs, undefined],
    ['max age old plus 1 ms', { timestamp: ts(-3600) }, null, nowMs + 1, 'MESSAGE_EXPIRED'],
    ['a day old', { timestamp: ts(-86_400) }, null, nowMs, 'MESSAGE_EXPIRED'],
    ['timestamp 0', { timestamp: 0n }, null, nowMs, 'MESSAGE_EXPIRED'],
    ['exactly max skew ahead', { timestamp: ts(30) }, null, nowMs, undefined],
    ['max skew ahead plus 1 ms', { timestamp: ts(30) }, null, nowMs - 1, 'TIMESTAMP_IN_FUTURE'],
    ['far future (u64 max)', { timestamp: (1n << 64n) - 1n }, null, nowMs, 'TIMESTAMP_IN_FUTURE'],
    [
      'chain checked before time',
      { sourceChainId: 1n, timestamp: 0n },
      null,
      nowMs,
      'CHAIN_NOT_ALLOWED',
    ],
  ];
  it.each(cases)('%s', (_name, over, keyChains, now, code) => {
    const e = checkMessage(msg(over), rules, keyChains, now);
    expect(e?.code).toBe(code);
    if (e) expect(e.status).toBe(422);
  });

  it('follows the configured limits', () => {
    const strict: BridgeRules = {
      ...rules,
      maxAgeSeconds: 60,
      maxSkewSeconds: 0,
      allowedTargets: [121n],
    };
    expect(
      checkMessage(msg({ targetChainId: 121n, timestamp: ts(-61) }), strict, null, nowMs)?.code,
    ).toBe('MESSAGE_EXPIRED');
    expect(
      checkMessage(msg({ targetChainId: 121n, timestamp: ts(1) }), strict, null, nowMs)?.code,
    ).toBe('TIMESTAMP_IN_FUTURE');
    expect(checkMessage(msg({ targetChainId: 120n }), strict, null, nowMs)?.code).toBe(
      'CHAIN_NOT_ALLOWED',
    );
    expect(
      checkMessage(msg({ targetChainId: 121n, timestamp: ts(-60) }), strict, null, nowMs),
    ).toBeUndefined();
  });
});
