/**
 * Recomputes every chain from its genesis and checks every signed checkpoint against it.
 * The first event whose sequence, link or hash does not match is `brokenAt`; so is the first
 * missing event of a chain that a checkpoint says was longer (a cut-off tail).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { GENESIS, chainHash, type AuditEvent } from './event.js';
import type { ChainHead, CheckpointBody } from './checkpoint.js';

export type VerifyResult =
  | { ok: true; chains: ChainHead[]; checkpoint: (CheckpointBody & { keyVersion: number }) | null }
  | { ok: false; brokenAt: { instance: string; seq: number }; reason: string };

export type SignatureCheck = (
  keyVersion: number,
  body: Uint8Array,
  signature: Uint8Array,
) => Promise<boolean>;

const PAGE = 5_000;

export async function verifyAudit(
  db: Kysely<Database>,
  checkSignature: SignatureCheck,
): Promise<VerifyResult> {
  const checkpoints = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .orderBy('ts')
    .orderBy('instance')
    .orderBy('seq')
    .execute();
  const expected = new Map<string, Map<number, string>>(); // instance -> events -> head
  let latest: (CheckpointBody & { keyVersion: number }) | null = null;
  for (const cp of checkpoints) {
    const body = JSON.parse(cp.body) as CheckpointBody;
    if (
      !(await checkSignature(cp.key_version, Buffer.from(cp.body), cp.signature)) ||
      body.instance !== cp.instance
    ) {
      return {
        ok: false,
        brokenAt: { instance: cp.instance, seq: 0 },
        reason: `checkpoint ${cp.instance}/${cp.seq} has a bad signature`,
      };
    }
    for (const c of body.chains) {
      const m = expected.get(c.instance) ?? new Map<number, string>();
      m.set(c.events, c.head);
      expected.set(c.instance, m);
    }
    latest = { ...body, keyVersion: cp.key_version };
  }
  const instances = await db
    .selectFrom('audit_events')
    .select('instance')
    .distinct()
    .orderBy('instance')
    .execute();
  const names = new Set([...instances.map((r) => r.instance), ...expected.keys()]);
  const chains: ChainHead[] = [];
  for (const instance of [...names].sort()) {
    const res = await verifyChain(db, instance, expected.get(instance) ?? new Map());
    if ('reason' in res)
      return { ok: false, brokenAt: { instance, seq: res.seq }, reason: res.reason };
    chains.push(res);
  }
  return { ok: true, chains, checkpoint: latest };
}

async function verifyChain(
  db: Kysely<Database>,
  instance: string,
  expected: Map<number, string>,
): Promise<ChainHead | { seq: number; reason: string }> {
  let prev: Uint8Array = GENESIS;
  let seq = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('instance', '=', instance)
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const r of rows) {
      const at = seq + 1;
      if (Number(r.seq) !== at) return { seq: at, reason: `event ${at} is missing` };
      const hash = chainHash(prev, toEvent(r));
      if (!Buffer.from(r.prev_hash).equals(prev) || !hash.equals(r.hash))
        return { seq: at, reason: `event ${at} was altered` };
      const head = expected.get(at);
      if (head !== undefined && head !== hash.toString('hex'))
        return { seq: at, reason: `event ${at} differs from a checkpoint` };
      prev = hash;
      seq = at;
    }
    if (rows.length < PAGE) break;
  }
  const longest = Math.max(0, ...expected.keys());
  if (longest > seq)
    return {
      seq: seq + 1,
      reason: `events after ${seq} were removed (a checkpoint covers ${longest})`,
    };
  return { instance, events: seq, head: Buffer.from(prev).toString('hex') };
}

function toEvent(r: Database['audit_events']): AuditEvent {
  return {
    instance: r.instance,
    seq: Number(r.seq),
    ts: Number(r.ts),
    principal: r.principal,
    action: r.action,
    keyName: r.key_name,
    keyVersion: r.key_version,
    outcome: r.outcome as AuditEvent['outcome'],
    code: r.code,
    requestId: r.request_id,
    digest: r.digest,
    details: r.details ? (JSON.parse(r.details) as AuditEvent['details']) : null,
  };
}
