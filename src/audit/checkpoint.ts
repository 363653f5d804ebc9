/**
 * Signed checkpoints: every chain's length and head, signed with the KMS's Ed25519 audit key
 * (`audit-checkpoint`). Edits and deletions before the last checkpoint are then always found, and a
 * cut-off tail is found once a later checkpoint exists (ARCHITECTURE.md "Audit").
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Writer } from '../store/writer.js';

export interface CheckpointSigner {
  /** The signature, and the version of the audit key that made it. */
  sign(body: Uint8Array): Promise<{ signature: Uint8Array; keyVersion: number }>;
}

export interface ChainHead {
  readonly instance: string;
  readonly events: number;
  readonly head: string;
}

export interface CheckpointBody {
  readonly instance: string;
  readonly seq: number;
  readonly ts: number;
  readonly chains: readonly ChainHead[];
}

/** Every chain's last event, read from the store. */
export async function chainHeads(db: Kysely<Database>): Promise<ChainHead[]> {
  // Every step is one probe of the (instance, seq) primary key, however long the chains are. The
  // query this replaces compared each event with its chain's maximum: at a few hundred thousand
  // events PostgreSQL spent minutes on it, at every checkpoint (docs/performance.md).
  const instances = await sql<{ instance: string }>`
    with recursive i (instance) as (
      select min(instance) from audit_events
      union all
      select (select min(e.instance) from audit_events e where e.instance > i.instance)
      from i where i.instance is not null
    )
    select instance from i where instance is not null`.execute(db);
  const heads = await Promise.all(
    instances.rows.map(({ instance }) =>
      db
        .selectFrom('audit_events')
        .select(['instance', 'seq', 'hash'])
        .where('instance', '=', instance)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow(),
    ),
  );
  return heads
    .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0))
    .map((r) => ({
      instance: r.instance,
      events: Number(r.seq),
      head: Buffer.from(r.hash).toString('hex'),
    }));
}

export function encodeBody(body: CheckpointBody): Uint8Array {
  return Buffer.from(
    JSON.stringify({ instance: body.instance, seq: body.seq, ts: body.ts, chains: body.chains }),
  );
}

export async function makeCheckpoint(
  db: Kysely<Database>,
  writer: Writer,
  instance: string,
  signer: CheckpointSigner,
  ts: number,
): Promise<void> {
  const last = await db
    .selectFrom('audit_checkpoints')
    .select(sql<number | null>`max(seq)`.as('seq'))
    .where('instance', '=', instance)
    .executeTakeFirst();
  const body: CheckpointBody = {
    instance,
    seq: Number(last?.seq ?? 0) + 1,
    ts,
    chains: await chainHeads(db),
  };
  const encoded = encodeBody(body);
  const { signature, keyVersion } = await signer.sign(encoded);
  await writer.run((trx) =>
    trx
      .insertInto('audit_checkpoints')
      .values({
        instance,
        seq: body.seq,
        ts,
        body: Buffer.from(encoded).toString('utf8'),
        signature: Buffer.from(signature),
        key_version: keyVersion,
      })
      .execute(),
  );
}
