/**
 * Every migration, in order. Shipped with the code and applied at start (ARCHITECTURE.md "Store");
 * listed statically so the build needs no file scanning. Later issues append their own.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_validator.js';
import * as m0003 from './0003_bridge.js';
import * as m0004 from './0004_experience.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_validator': m0002,
  '0003_bridge': m0003,
  '0004_experience': m0004,
};
