/**
 * The canonical form of an audit event is what every stored chain was hashed over, and digests
 * are compared across releases: neither may ever change. Checked against the original implementation (details always rebuilt in sorted key
 * order) on random events, including integer-like keys (which JavaScript enumerates first).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, chainHash, digestOf, type AuditEvent } from '../../src/audit/event.js';

function originalCanonical(e: AuditEvent): string {
  const sorted = (d: Readonly<Record<string, unknown>>) =>
    Object.fromEntries(
      Object.keys(d)
        .sort()
        .map((k) => [k, d[k]]),
    );
  return JSON.stringify([
    e.instance,
    e.seq,
    e.ts,
    e.principal ?? null,
    e.action,
    e.keyName ?? null,
    e.keyVersion ?? null,
    e.outcome,
    e.code ?? null,
    e.requestId ?? null,
    e.digest ?? null,
    e.details ? sorted(e.details) : null,
  ]);
}

const key = fc.oneof(
  fc.constantFrom(
    'userHash',
    'generation',
    'item',
    'fromVersion',
    'a',
    'B',
    '',
    '0',
    '1',
    '10',
    '__proto__',
  ),
  fc.nat({ max: 5000 }).map(String),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
);
const value = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const event = fc.record({
  instance: fc.string({ maxLength: 8 }),
  seq: fc.nat(),
  ts: fc.nat(),
  outcome: fc.constantFrom('success' as const, 'refused' as const, 'error' as const),
  action: fc.string({ maxLength: 20 }),
  principal: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  keyName: fc.option(fc.string({ maxLength: 8 })),
  keyVersion: fc.option(fc.nat()),
  code: fc.option(fc.string({ maxLength: 8 })),
  requestId: fc.option(fc.string({ maxLength: 8 })),
  digest: fc.option(fc.string({ maxLength: 8 })),
  details: fc.option(fc.dictionary(key, value, { maxKeys: 6 })),
});

describe('canonical audit event', () => {
  it('is the original form on random events (property)', () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(canonical(e)).toBe(originalCanonical(e));
      }),
      { numRuns: 5000 },
    );
  });

  it('sorts details whatever their insertion order, integer-like keys first', () => {
    const e: AuditEvent = {
      instance: 'i',
      seq: 1,
      ts: 2,
      outcome: 'success',
      action: 'experience.encrypt',
      details: { userHash: '0xab', generation: 1, '10': 'x', '9': 'y', B: 1, a: 2 },
    };
    expect(canonical(e)).toBe(
      '["i",1,2,null,"experience.encrypt",null,null,"success",null,null,null,' +
        '{"9":"y","10":"x","B":1,"a":2,"generation":1,"userHash":"0xab"}]',
    );
    const prev = new Uint8Array(32).fill(1);
    expect(chainHash(prev, e).toString('hex')).toBe(
      createHash('sha256').update(prev).update(originalCanonical(e)).digest('hex'),
    );
  });
});

function originalDigestOf(...parts: (string | Uint8Array | bigint | number)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const bytes =
      typeof p === 'string' || typeof p === 'bigint' || typeof p === 'number'
        ? Buffer.from(String(p))
        : p;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len).update(bytes);
  }
  return h.digest('hex');
}

describe('digestOf', () => {
  const part = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 50 }),
    // Lone surrogates too: both must encode them the same (as U+FFFD).
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
    fc.uint8Array({ maxLength: 50 }),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
    fc.integer(),
    fc.string({ maxLength: 3000 }),
  );

  it('is the original digest on random part lists (property)', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 5 }), (parts) => {
        expect(digestOf(...parts)).toBe(originalDigestOf(...parts));
      }),
      { numRuns: 3000 },
    );
  });

  it('is pinned', () => {
    expect(digestOf('a', Uint8Array.of(1, 2), 5n, 7)).toBe(
      createHash('sha256')
        .update(Buffer.from('00000001610000000201020000000135000000013' + '7', 'hex'))
        .digest('hex'),
    );
    expect(digestOf()).toBe(createHash('sha256').digest('hex'));
  });
});
