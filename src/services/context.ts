/**
 * What every service receives from the composition root, and the caller of one operation.
 * Services know nothing of HTTP: routes pass a `Caller` and typed inputs.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Database } from '../store/schema.js';
import type { Writer } from '../store/writer.js';
import type { Invalidations } from '../store/invalidation.js';
import type { Engine } from '../store/columns.js';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../keyring/keyring.js';
import type { BlsEngine } from '../crypto/bls/engine.js';
import type { StoreLock } from '../store/lock.js';
import type { Principal } from './auth.js';

export interface ServiceDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  readonly lock: StoreLock;
  readonly writer: Writer;
  readonly invalidations: Invalidations;
  readonly audit: AuditLog;
  readonly keyring: Keyring;
  readonly bls: BlsEngine;
  readonly now: () => number;
}

export interface Caller {
  readonly principal: Principal;
  readonly requestId: string;
}
