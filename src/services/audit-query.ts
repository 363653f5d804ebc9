/**
 * Reading the audit log (API.md "Audit and providers"): paged events, chain verification, and the
 * checkpoint key. Also owns the `audit-checkpoint` Ed25519 key that signs checkpoints.
 */
import { KmsError, invalid } from '../errors.js';
import { verifyAudit } from '../audit/verify.js';
import { asStored } from '../audit/log.js';
import type { CheckpointSigner } from '../audit/checkpoint.js';
import { ed25519Sign, ed25519Verify } from '../crypto/ed25519.js';
import { toHex } from '../crypto/encoding.js';
import { activeVersion, findVersion, type KeyRecord } from '../keyring/record.js';
import type { ServiceDeps } from './context.js';

export const AUDIT_KEY = 'audit-checkpoint';

interface Cursor {
  ts: number;
  instance: string;
  seq: number;
}

export class AuditQuery {
  constructor(private readonly deps: ServiceDeps) {}

  async events(q: {
    after?: string | undefined;
    limit?: number | undefined;
    key?: string | undefined;
    principal?: string | undefined;
    action?: string | undefined;
  }) {
    const limit = q.limit ?? 100;
    if (limit < 1 || limit > 1000) throw invalid('limit', 'must be from 1 to 1000');
    let query = this.deps.db.selectFrom('audit_events').selectAll();
    if (q.after) {
      const c = decodeCursor(q.after);
      query = query.where((eb) =>
        eb.or([
          eb('ts', '>', c.ts),
          eb.and([eb('ts', '=', c.ts), eb('instance', '>', c.instance)]),
          eb.and([eb('ts', '=', c.ts), eb('instance', '=', c.instance), eb('seq', '>', c.seq)]),
        ]),
      );
    }
    if (q.key) query = query.where('key_name', '=', asStored(q.key));
    if (q.principal) query = query.where('principal', '=', asStored(q.principal));
    if (q.action) query = query.where('action', '=', asStored(q.action));
    const rows = await query
      .orderBy('ts')
      .orderBy('instance')
      .orderBy('seq')
      .limit(limit)
      .execute();
    const last = rows.at(-1);
    return {
      events: rows.map((r) => ({
        instance: r.instance,
        seq: Number(r.seq),
        time: new Date(Number(r.ts)).toISOString(),
        principal: r.principal,
        action: r.action,
        key: r.key_name,
        keyVersion: r.key_version,
        outcome: r.outcome,
        code: r.code,
        requestId: r.request_id,
        digest: r.digest,
        details: r.details ? (JSON.parse(r.details) as unknown) : null,
        hash: toHex(r.hash),
      })),
      next:
        rows.length === limit && last
          ? encodeCursor({ ts: Number(last.ts), instance: last.instance, seq: Number(last.seq) })
          : null,
    };
  }

  async verify() {
    const key = await this.deps.keyring.get(AUDIT_KEY);
    return verifyAudit(this.deps.db, async (version, body, signature) => {
      const v = key && findVersion(key, version);
      return !!v?.publicKey && ed25519Verify(v.publicKey, body, signature);
    });
  }

  async checkpointKey() {
    const key = await this.auditKey();
    return {
      algorithm: 'ed25519',
      publicKey: toHex(activeVersion(key)!.publicKey!),
      keyVersion: activeVersion(key)!.version,
      versions: key.versions.map((v) => ({
        version: v.version,
        publicKey: v.publicKey ? toHex(v.publicKey) : null,
      })),
    };
  }

  private async auditKey(): Promise<KeyRecord> {
    const key = await this.deps.keyring.get(AUDIT_KEY);
    if (!key || !activeVersion(key))
      throw new KmsError('AUDIT_UNAVAILABLE', 'the audit checkpoint key is missing');
    return key;
  }

  /**
   * Signs checkpoint bodies with the audit key's version that is active when each is signed
   * (inside the device when it can), so a rotation of the key takes effect at once, on every
   * instance, without a restart. Checks now that there is one.
   */
  async signer(): Promise<CheckpointSigner> {
    await this.auditKey();
    return {
      sign: async (body) => {
        const key = await this.auditKey();
        const version = activeVersion(key)!;
        const signature = await (this.deps.keyring.canInDevice(version, 'ed25519')
          ? this.deps.keyring.inDevice(key, version, 'ed25519', (p, ref) => p.sign(ref, body))
          : this.deps.keyring.withSecret(key, version, (seed) => ed25519Sign(seed, body)));
        return { signature, keyVersion: version.version };
      },
    };
  }
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.instance, c.seq])).toString('base64url');
}

function decodeCursor(s: string): Cursor {
  try {
    const [ts, instance, seq] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as [
      number,
      string,
      number,
    ];
    // Exactly what encodeCursor writes: whole numbers (both stores hold them as BIGINT) and an
    // instance id PostgreSQL's text can hold.
    if (
      Number.isSafeInteger(ts) &&
      Number.isSafeInteger(seq) &&
      typeof instance === 'string' &&
      !instance.includes('\u0000')
    )
      return { ts, instance, seq };
  } catch {
    // fall through to the 400 below
  }
  throw invalid('after', 'is not a cursor returned as next');
}
