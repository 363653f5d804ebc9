/**
 * Every migration, in order. Shipped with the code and applied at start (ARCHITECTURE.md "Store");
 * listed statically so the build needs no file scanning. Later issues append their own.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
};
