/**
 * Principals, bearer tokens, roles and scopes (ARCHITECTURE.md "Auth", API.md "Who may call what").
 * Tokens are 256-bit random values shown once; the store keeps their SHA-256. A lookup finds the row
 * by hash and then compares in constant time. Token lookups are cached, and a revocation, expiry or
 * principal deletion takes effect at the next request (locally) or within the poll interval.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Writer } from '../store/writer.js';
import type { Invalidations } from '../store/invalidation.js';
import { KmsError, invalid } from '../errors.js';

export const ROLES = [
  'admin',
  'signing',
  'encryption',
  'validator',
  'bridge',
  'experience',
  'replicate',
] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly scopes: readonly string[];
  readonly certificateFingerprints: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEY_SCOPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\*?$|^\*$/;
const REPLICATE_SCOPE = /^(hanzo|lux|zoo|\*)\/([a-z0-9-]{1,63}|\*)\/([a-z0-9-]{1,63}|\*)$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;

export function hashToken(token: string): Buffer {
  return Buffer.from(hashTokenHex(token), 'hex');
}

/** Hex SHA-256 of a token (one-shot to hex, then bytes: cheaper than a Hash object's Buffer). */
function hashTokenHex(token: string): string {
  return hash('sha256', token);
}

/** A key name is in scope when a scope equals it, or is a prefix followed by `*`. */
export function keyInScope(p: Principal, name: string): boolean {
  if (p.role === 'admin') return true;
  return p.scopes.some((s) => (s.endsWith('*') ? name.startsWith(s.slice(0, -1)) : s === name));
}

/** Replicate scopes are `{ecosystem}/{env}/{service}`, each part exact or `*`. */
export function replicateInScope(
  p: Principal,
  ecosystem: string,
  env: string,
  service: string,
): boolean {
  if (p.role === 'admin') return true;
  if (p.role !== 'replicate') return false;
  const want = [ecosystem, env, service];
  return p.scopes.some((s) => s.split('/').every((part, i) => part === '*' || part === want[i]));
}

export function validatePrincipalInput(
  role: string,
  scopes: readonly string[],
  fingerprints: readonly string[],
): void {
  if (!(ROLES as readonly string[]).includes(role))
    invalidThrow('role', `must be one of ${ROLES.join(', ')}`);
  const pattern = role === 'replicate' ? REPLICATE_SCOPE : KEY_SCOPE;
  scopes.forEach((s, i) => {
    if (!pattern.test(s)) {
      invalidThrow(
        `scopes[${i}]`,
        role === 'replicate'
          ? 'must be {ecosystem}/{env}/{service}'
          : 'must be a key name, optionally ending in *',
      );
    }
  });
  fingerprints.forEach((f, i) => {
    if (!FINGERPRINT.test(f))
      invalidThrow(
        `certificateFingerprints[${i}]`,
        'must be 64 lowercase hex characters (SHA-256)',
      );
  });
}

function invalidThrow(field: string, problem: string): never {
  throw invalid(field, problem);
}

interface CachedToken {
  readonly principal: Principal;
  readonly hash: Buffer;
  readonly expiresAt: number;
}

export interface AuthServiceOptions {
  readonly db: Kysely<Database>;
  readonly writer: Writer;
  readonly invalidations: Invalidations;
  readonly tokenTtlSeconds: number;
  readonly now?: () => number;
}

export class AuthService {
  private readonly tokens = new Map<string, CachedToken | null>();
  private readonly certs = new Map<string, Principal | null>();
  /**
   * Counts the clears. A lookup keeps its answer only if no clear happened while it ran: one that
   * read before a revocation committed, and finished after the revocation cleared the caches,
   * would otherwise put the revoked token back for good.
   */
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly opts: AuthServiceOptions) {
    this.now = opts.now ?? Date.now;
    opts.invalidations.on('auth', () => {
      this.epoch += 1;
      this.tokens.clear();
      this.certs.clear();
    });
  }

  /** The principal of a bearer token, or undefined for an unknown, expired or revoked one. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const key = hashTokenHex(token);
    const hash = Buffer.from(key, 'hex');
    let entry = this.tokens.get(key);
    if (entry === undefined) {
      const epoch = this.epoch;
      entry = await this.lookup(hash).catch(storeUnavailable);
      if (epoch === this.epoch) {
        if (this.tokens.size > 100_000) this.tokens.clear();
        this.tokens.set(key, entry);
      }
    }
    if (!entry || entry.expiresAt <= this.now() || !timingSafeEqual(entry.hash, hash))
      return undefined;
    return entry.principal;
  }

  private async lookup(hash: Buffer): Promise<CachedToken | null> {
    const row = await this.opts.db
      .selectFrom('tokens')
      .innerJoin('principals', 'principals.name', 'tokens.principal')
      .select([
        'tokens.token_hash',
        'tokens.expires_at',
        'tokens.revoked_at',
        'principals.name',
        'principals.role',
        'principals.scopes',
        'principals.cert_fingerprints',
      ])
      .where('tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return null;
    return {
      principal: toPrincipal(row),
      hash: Buffer.from(row.token_hash),
      expiresAt: Number(row.expires_at),
    };
  }

  /** The principal bound to a client certificate's SHA-256 fingerprint (mTLS). */
  async byCertificate(fingerprint: string): Promise<Principal | undefined> {
    const cached = this.certs.get(fingerprint);
    if (cached !== undefined) return cached ?? undefined;
    const epoch = this.epoch;
    const rows = await this.opts.db
      .selectFrom('principals')
      .selectAll()
      .execute()
      .catch(storeUnavailable);
    const found = rows.find((r) =>
      (JSON.parse(r.cert_fingerprints) as string[]).includes(fingerprint),
    );
    const principal = found ? toPrincipal(found) : null;
    if (epoch === this.epoch) {
      if (this.certs.size > 100_000) this.certs.clear();
      this.certs.set(fingerprint, principal);
    }
    return principal ?? undefined;
  }

  async listPrincipals(): Promise<Principal[]> {
    const rows = await this.opts.db.selectFrom('principals').selectAll().orderBy('name').execute();
    return rows.map(toPrincipal);
  }

  async getPrincipal(name: string): Promise<Principal | undefined> {
    const row = await this.opts.db
      .selectFrom('principals')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toPrincipal(row) : undefined;
  }

  async createPrincipal(p: Principal): Promise<Principal> {
    if (!NAME.test(p.name)) throw invalid('name', 'must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}');
    validatePrincipalInput(p.role, p.scopes, p.certificateFingerprints);
    const now = this.now();
    await this.opts.writer.run(async (trx) => {
      const exists = await trx
        .selectFrom('principals')
        .select('name')
        .where('name', '=', p.name)
        .executeTakeFirst();
      if (exists) throw new KmsError('ALREADY_EXISTS', `principal ${p.name} already exists`);
      await trx
        .insertInto('principals')
        .values({
          name: p.name,
          role: p.role,
          scopes: JSON.stringify(p.scopes),
          cert_fingerprints: JSON.stringify(p.certificateFingerprints),
          created_at: now,
          updated_at: now,
        })
        .execute();
      await this.opts.invalidations.bump(trx, 'auth');
    });
    return p;
  }

  async updatePrincipal(
    name: string,
    patch: { scopes?: readonly string[]; certificateFingerprints?: readonly string[] },
  ): Promise<Principal> {
    return this.opts.writer.run(async (trx) => {
      const row = await trx
        .selectFrom('principals')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      if (!row) throw new KmsError('NOT_FOUND', `principal ${name} does not exist`);
      const current = toPrincipal(row);
      const next = { ...current, ...patch };
      validatePrincipalInput(next.role, next.scopes, next.certificateFingerprints);
      await trx
        .updateTable('principals')
        .set({
          scopes: JSON.stringify(next.scopes),
          cert_fingerprints: JSON.stringify(next.certificateFingerprints),
          updated_at: this.now(),
        })
        .where('name', '=', name)
        .execute();
      await this.opts.invalidations.bump(trx, 'auth');
      return next;
    });
  }

  /** Deletes a principal and revokes its tokens. */
  async deletePrincipal(name: string): Promise<void> {
    await this.opts.writer.run(async (trx) => {
      const res = await trx.deleteFrom('principals').where('name', '=', name).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0)
        throw new KmsError('NOT_FOUND', `principal ${name} does not exist`);
      await trx
        .updateTable('tokens')
        .set({ revoked_at: this.now() })
        .where('principal', '=', name)
        .where('revoked_at', 'is', null)
        .execute();
      await this.opts.invalidations.bump(trx, 'auth');
    });
  }

  /** Issues a token; the value is returned once and only its hash is stored. */
  async createToken(
    principal: string,
    ttlSeconds?: number,
  ): Promise<{ tokenId: string; token: string; expiresAt: string }> {
    const ttl = ttlSeconds ?? this.opts.tokenTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 10 * 365 * 86_400)
      throw invalid('ttlSeconds', 'must be an integer from 1 to 315360000');
    const token = `zkms_${randomBytes(32).toString('base64url')}`;
    const tokenId = `tok_${randomBytes(12).toString('hex')}`;
    const now = this.now();
    const expiresAt = now + ttl * 1000;
    await this.opts.writer.run(async (trx) => {
      const exists = await trx
        .selectFrom('principals')
        .select('name')
        .where('name', '=', principal)
        .executeTakeFirst();
      if (!exists) throw new KmsError('NOT_FOUND', `principal ${principal} does not exist`);
      await trx
        .insertInto('tokens')
        .values({
          id: tokenId,
          principal,
          token_hash: hashToken(token),
          created_at: now,
          expires_at: expiresAt,
          revoked_at: null,
        })
        .execute();
    });
    return { tokenId, token, expiresAt: new Date(expiresAt).toISOString() };
  }

  async listTokens(
    principal: string,
  ): Promise<{ tokenId: string; createdAt: string; expiresAt: string; revoked: boolean }[]> {
    if (!(await this.getPrincipal(principal)))
      throw new KmsError('NOT_FOUND', `principal ${principal} does not exist`);
    const rows = await this.opts.db
      .selectFrom('tokens')
      .select(['id', 'created_at', 'expires_at', 'revoked_at'])
      .where('principal', '=', principal)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      tokenId: r.id,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      expiresAt: new Date(Number(r.expires_at)).toISOString(),
      revoked: r.revoked_at !== null,
    }));
  }

  async revokeToken(tokenId: string): Promise<void> {
    await this.opts.writer.run(async (trx) => {
      const res = await trx
        .updateTable('tokens')
        .set({ revoked_at: this.now() })
        .where('id', '=', tokenId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0)
        throw new KmsError('NOT_FOUND', `token ${tokenId} does not exist or is already revoked`);
      await this.opts.invalidations.bump(trx, 'auth');
    });
  }

  async hasPrincipals(): Promise<boolean> {
    return !!(await this.opts.db
      .selectFrom('principals')
      .select('name')
      .limit(1)
      .executeTakeFirst());
  }
}

/** A store that cannot answer is an outage (503), not an unknown token (401) or a crash (500). */
function storeUnavailable(e: unknown): never {
  throw new KmsError('STORE_UNAVAILABLE', undefined, { cause: e });
}

function toPrincipal(r: {
  name: string;
  role: string;
  scopes: string;
  cert_fingerprints: string;
}): Principal {
  return {
    name: r.name,
    role: r.role as Role,
    scopes: JSON.parse(r.scopes) as string[],
    certificateFingerprints: JSON.parse(r.cert_fingerprints) as string[],
  };
}
