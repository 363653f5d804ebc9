/**
 * Table types for Kysely. One schema for SQLite and PostgreSQL (ARCHITECTURE.md "Store"):
 * - 64-bit chain values (chain ids, heights, nonces) are 20-digit zero-padded decimal TEXT, so they
 *   compare correctly as strings on both engines over the whole u64 range (see `u64Column`);
 * - times are milliseconds since the epoch in BIGINT; booleans are INTEGER 0/1;
 * - binary values are BLOB (SQLite) / BYTEA (PostgreSQL), read back as Buffer;
 * - JSON values are TEXT.
 */
import type { Generated } from 'kysely';
import type { BridgeTables } from './bridge-nonces.js';
import type { ValidatorTables } from './validator-watermarks.js';
import type { ExperienceTables } from './experience-salts.js';

export interface KeysTable {
  id: string;
  name: string;
  algorithm: string;
  purpose: string;
  /** JSON array of decimal chain ids, or null. */
  chains: string | null;
  jwks: number;
  residency: string;
  provider: string | null;
  enabled: number;
  min_decryption_version: number;
  created_at: number;
  updated_at: number;
  /** Set when every version was destroyed (DELETE /v1/keys/{name}). */
  destroyed_at: number | null;
}

export interface KeyVersionsTable {
  key_id: string;
  version: number;
  state: string;
  public_key: Buffer | null;
  created_at: number;
  destroyed_at: number | null;
}

export interface KeyWrapsTable {
  key_id: string;
  version: number;
  provider: string;
  blob: Buffer;
}

export interface PrincipalsTable {
  name: string;
  role: string;
  /** JSON array of strings. */
  scopes: string;
  /** JSON array of lowercase hex SHA-256 fingerprints. */
  cert_fingerprints: string;
  created_at: number;
  updated_at: number;
}

export interface TokensTable {
  id: string;
  principal: string;
  token_hash: Buffer;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface AuditEventsTable {
  instance: string;
  seq: number;
  ts: number;
  principal: string | null;
  action: string;
  key_name: string | null;
  key_version: number | null;
  outcome: string;
  code: string | null;
  request_id: string | null;
  digest: string | null;
  details: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditCheckpointsTable {
  instance: string;
  seq: number;
  ts: number;
  /** Canonical JSON: {instance, seq, ts, chains: [{instance, events, head}]}. */
  body: string;
  signature: Buffer;
  key_version: number;
}

export interface SettingsTable {
  name: string;
  value: string;
}

/** One row per cache domain; bumped on every deletion, rotation, disable or revocation. */
export interface InvalidationsTable {
  domain: string;
  generation: number;
}

export interface FoundationTables {
  keys: KeysTable;
  key_versions: KeyVersionsTable;
  key_wraps: KeyWrapsTable;
  principals: PrincipalsTable;
  tokens: TokensTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  settings: SettingsTable;
  invalidations: InvalidationsTable;
}

/** The whole database: later issues add their table groups to this intersection. */
export type Database = FoundationTables & BridgeTables & ValidatorTables & ExperienceTables;

export type { Generated };
