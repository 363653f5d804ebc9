/**
 * The double-sign rule and the interchange merge as tables (STYLE.md rule 12): every row is a
 * watermark, a proposal, and the verdict ARCHITECTURE.md "Signing rules" demands.
 */
import { describe, expect, it } from 'vitest';
import {
  checkBlock,
  comparePair,
  highestOf,
  mergeWatermark,
  type Watermark,
} from '../../src/services/validator/rule.js';

const root = (b: number) => new Uint8Array(32).fill(b);
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffff_ffff;
const wm = (height: bigint, round: number, r: number | null): Watermark => ({
  height,
  round,
  signingRoot: r === null ? null : root(r),
});

describe('checkBlock', () => {
  const cases: [string, Watermark | null, [bigint, number, number], string][] = [
    ['nothing signed yet', null, [0n, 0, 1], 'new'],
    ['nothing signed yet, highest pair', null, [U64_MAX, U32_MAX, 1], 'new'],
    ['higher height, round 0', wm(10n, 3, 1), [11n, 0, 2], 'new'],
    ['same height, higher round', wm(10n, 3, 1), [10n, 4, 2], 'new'],
    ['same height and round, same root: the idempotent repeat', wm(10n, 3, 1), [10n, 3, 1], 'same'],
    ['same height and round, other root', wm(10n, 3, 1), [10n, 3, 2], 'DOUBLE_SIGN'],
    [
      'same height and round, watermark root unknown (imported)',
      wm(10n, 3, null),
      [10n, 3, 1],
      'DOUBLE_SIGN',
    ],
    ['lower height, any round', wm(10n, 3, 1), [9n, 3, 1], 'HEIGHT_REGRESSION'],
    [
      'lower height with a higher round (the pair, not the round, decides)',
      wm(10n, 3, 1),
      [9n, 100, 2],
      'HEIGHT_REGRESSION',
    ],
    ['same height, lower round', wm(10n, 3, 1), [10n, 2, 2], 'HEIGHT_REGRESSION'],
    [
      'same height, lower round, watermark root unknown',
      wm(10n, 3, null),
      [10n, 2, 2],
      'HEIGHT_REGRESSION',
    ],
    ['same height, higher round over an unknown root', wm(10n, 3, null), [10n, 4, 2], 'new'],
    ['height 0 round 0 again with another root', wm(0n, 0, 1), [0n, 0, 2], 'DOUBLE_SIGN'],
    ['next height after the largest round', wm(5n, U32_MAX, 1), [6n, 0, 2], 'new'],
    [
      'largest height: lower round refused',
      wm(U64_MAX, 7, 1),
      [U64_MAX, 6, 2],
      'HEIGHT_REGRESSION',
    ],
    ['largest height, higher round', wm(U64_MAX, 7, 1), [U64_MAX, 8, 2], 'new'],
    [
      'heights compared as numbers, not strings (9 < 10)',
      wm(10n, 0, 1),
      [9n, 0, 2],
      'HEIGHT_REGRESSION',
    ],
    ['beyond 2^53', wm(2n ** 53n + 1n, 0, 1), [2n ** 53n, 0, 2], 'HEIGHT_REGRESSION'],
  ];
  it.each(cases)('%s', (_name, watermark, [height, round, r], expected) => {
    const v = checkBlock(watermark, { height, round, signingRoot: root(r) });
    expect(v.kind === 'refuse' ? v.code : v.kind).toBe(expected);
  });
});

describe('comparePair', () => {
  it.each([
    [1n, 0, 0n, 9, 1],
    [0n, 9, 1n, 0, -1],
    [3n, 2, 3n, 2, 0],
    [3n, 1, 3n, 2, -1],
  ] as const)('(%s, %s) vs (%s, %s) -> %s', (h1, r1, h2, r2, want) => {
    expect(comparePair({ height: h1, round: r1 }, { height: h2, round: r2 })).toBe(want);
  });
});

describe('mergeWatermark (import never lowers)', () => {
  const cases: [string, Watermark | null, Watermark, Watermark | 'keep'][] = [
    ['no watermark yet', null, wm(5n, 1, 1), wm(5n, 1, 1)],
    ['no watermark yet, unknown root', null, wm(5n, 1, null), wm(5n, 1, null)],
    ['higher height raises', wm(5n, 1, 1), wm(6n, 0, 2), wm(6n, 0, 2)],
    ['higher round raises', wm(5n, 1, 1), wm(5n, 2, 2), wm(5n, 2, 2)],
    ['lower height is ignored', wm(5n, 1, 1), wm(4n, 9, 2), 'keep'],
    ['lower round is ignored', wm(5n, 1, 1), wm(5n, 0, 2), 'keep'],
    [
      'equal with the same root keeps (and keeps the stored signature)',
      wm(5n, 1, 1),
      wm(5n, 1, 1),
      'keep',
    ],
    ['equal with another root: root becomes unknown', wm(5n, 1, 1), wm(5n, 1, 2), wm(5n, 1, null)],
    [
      'equal with an unknown root: root becomes unknown',
      wm(5n, 1, 1),
      wm(5n, 1, null),
      wm(5n, 1, null),
    ],
    ['equal over an unknown root stays unknown', wm(5n, 1, null), wm(5n, 1, 2), 'keep'],
  ];
  it.each(cases)('%s', (_name, existing, incoming, expected) => {
    const m = mergeWatermark(existing, incoming);
    expect(m.kind === 'keep' ? 'keep' : m.watermark).toEqual(expected);
  });

  it('highestOf takes the highest pair and merges equal ones', () => {
    expect(highestOf([])).toBeNull();
    expect(highestOf([wm(1n, 0, 1), wm(3n, 0, 3), wm(2n, 5, 2)])).toEqual(wm(3n, 0, 3));
    expect(highestOf([wm(3n, 0, 3), wm(3n, 0, 4), wm(1n, 0, 1)])).toEqual(wm(3n, 0, null));
  });
});
