/**
 * The double-sign rule (ARCHITECTURE.md "Signing rules", API.md "Validators"), pure and
 * table-tested (STYLE.md rule 6). State is one watermark per (BLS public key, chain): the highest
 * (height, round) signed, with the signing root of that block when it is known.
 *
 * A block is signed only if its (height, round) is above the watermark, compared as a pair (so a
 * lower round at the same height is a regression), or equal to it with the same signing root (the
 * idempotent repeat). Comparing signing roots rather than block hashes is equivalent for our own
 * signatures (the root binds chain, height, round and block hash) and also covers watermarks
 * restored from an interchange file, which carry only the root. An unknown root (an imported block
 * whose root was not given) matches nothing, so it blocks re-signing at that height and round.
 */

export interface Watermark {
  readonly height: bigint;
  readonly round: number;
  /** Null when the block signed at (height, round) is not known (interchange import). */
  readonly signingRoot: Uint8Array | null;
}

export interface Proposal {
  readonly height: bigint;
  readonly round: number;
  readonly signingRoot: Uint8Array;
}

export type Verdict =
  | { readonly kind: 'new' }
  | { readonly kind: 'same' }
  | { readonly kind: 'refuse'; readonly code: 'DOUBLE_SIGN' | 'HEIGHT_REGRESSION' };

/** -1, 0 or 1 as (height, round) of `a` is below, equal to or above that of `b`. */
export function comparePair(
  a: { height: bigint; round: number },
  b: { height: bigint; round: number },
): -1 | 0 | 1 {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return 0;
}

export function sameRoot(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a !== null && b !== null && Buffer.from(a).equals(b);
}

/** The verdict for signing `p` given the current watermark (null: nothing signed yet). */
export function checkBlock(watermark: Watermark | null, p: Proposal): Verdict {
  if (watermark === null) return { kind: 'new' };
  const order = comparePair(p, watermark);
  if (order > 0) return { kind: 'new' };
  if (order < 0) return { kind: 'refuse', code: 'HEIGHT_REGRESSION' };
  return sameRoot(watermark.signingRoot, p.signingRoot)
    ? { kind: 'same' }
    : { kind: 'refuse', code: 'DOUBLE_SIGN' };
}

export type Merge =
  { readonly kind: 'keep' } | { readonly kind: 'set'; readonly watermark: Watermark };

/**
 * Importing a watermark never lowers one (API.md "Validators"): a higher pair replaces it; a lower
 * one is ignored; an equal pair with a different or unknown root leaves the root unknown, since
 * either block may have been signed there and any new block would conflict with one of them.
 */
export function mergeWatermark(existing: Watermark | null, incoming: Watermark): Merge {
  if (existing === null) return { kind: 'set', watermark: incoming };
  const order = comparePair(incoming, existing);
  if (order > 0) return { kind: 'set', watermark: incoming };
  if (order < 0) return { kind: 'keep' };
  if (existing.signingRoot === null || sameRoot(existing.signingRoot, incoming.signingRoot)) {
    return { kind: 'keep' };
  }
  return { kind: 'set', watermark: { ...existing, signingRoot: null } };
}

/** The highest of several blocks of one key (the file may list many); equal pairs merge as above. */
export function highestOf(blocks: readonly Watermark[]): Watermark | null {
  let top: Watermark | null = null;
  for (const b of blocks) {
    const m = mergeWatermark(top, b);
    if (m.kind === 'set') top = m.watermark;
  }
  return top;
}
