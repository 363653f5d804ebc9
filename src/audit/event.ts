/**
 * Audit events and their chain hash (ARCHITECTURE.md "Audit"):
 * `hash = SHA-256(prev_hash || canonical(event))`, one chain per instance, genesis prev_hash = 32 zero
 * bytes. `canonical` is JSON with a fixed key order, so verification never depends on a driver's
 * column order. Events carry digests of inputs, never secrets or plaintext.
 */
import { createHash, hash } from 'node:crypto';

export type Outcome = 'success' | 'refused' | 'error';

/** What a service says about one operation. */
export interface AuditFields {
  readonly action: string;
  readonly principal?: string | null;
  readonly keyName?: string | null;
  readonly keyVersion?: number | null;
  readonly requestId?: string | null;
  /** Hex SHA-256 of the operation's inputs (never the inputs themselves). */
  readonly digest?: string | null;
  /** Small, non-secret facts (chain id, height, user id hash...). */
  readonly details?: Readonly<Record<string, string | number | boolean | null>> | null;
}

export interface AuditEvent extends AuditFields {
  readonly instance: string;
  readonly seq: number;
  readonly ts: number;
  readonly outcome: Outcome;
  readonly code?: string | null;
}

export const GENESIS = new Uint8Array(32);

export function canonical(e: AuditEvent): string {
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
    e.details ? sortedDetails(e.details) : null,
  ]);
}

/**
 * The details rebuilt with their keys inserted in sorted order. When `Object.keys` already lists
 * them sorted, the rebuilt object would enumerate (and so serialize) exactly as `d` does: integer
 * keys come first in both, ascending, then the others in insertion order, which is then sorted.
 */
function sortedDetails(d: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const keys = Object.keys(d);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  if (sorted) return d;
  // No prototype, so a '__proto__' key is an own property here too, as in Object.fromEntries.
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of keys.sort()) out[k] = d[k];
  return out;
}

export function chainHash(prev: Uint8Array, e: AuditEvent): Buffer {
  return createHash('sha256').update(prev).update(canonical(e)).digest();
}

/**
 * Hex SHA-256 over the parts, length-prefixed so that no two input lists collide:
 * `u32be(len(p1)) || p1 || u32be(len(p2)) || p2 ...`, text parts in UTF-8. The whole input is laid
 * out in one buffer for one-shot `hash` (a Hash object and two updates per part cost more than the
 * hashing); the buffer is wiped afterwards, as it holds copies of the inputs.
 */
export function digestOf(...parts: (string | Uint8Array | bigint | number)[]): string {
  const texts = parts.map((p) => (typeof p === 'object' ? p : String(p)));
  let total = 0;
  for (const p of texts) total += 4 + (typeof p === 'string' ? Buffer.byteLength(p) : p.length);
  const all = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of texts) {
    const len = typeof p === 'string' ? all.write(p, at + 4) : (all.set(p, at + 4), p.length);
    all.writeUInt32BE(len, at);
    at += 4 + len;
  }
  try {
    return hash('sha256', all);
  } finally {
    all.fill(0);
  }
}
