/**
 * Start-up work that must happen once across instances, under the store lock (ARCHITECTURE.md
 * "Several instances"): the audit checkpoint key, and on an empty store the bootstrap admin
 * principal whose token is written to `$KMS_DATA_DIR/admin.token` (0600). Only the path is logged.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Services } from '../app.js';
import type { Caller } from './context.js';
import { AUDIT_KEY } from './audit-query.js';
import { activeVersion } from '../keyring/record.js';

const SYSTEM: Caller = {
  principal: { name: 'system', role: 'admin', scopes: [], certificateFingerprints: [] },
  requestId: 'startup',
};

export async function bootstrap(services: Services, logger: Logger): Promise<string | undefined> {
  return services.deps.lock.withLock('bootstrap', async () => {
    const auditKey = await services.keyring.get(AUDIT_KEY);
    if (!auditKey || auditKey.destroyedAt !== null) {
      // A destroyed one (by a version of the KMS that allowed it) is replaced: the name is free.
      services.keyring.forgetAll();
      await services.keys.create(
        SYSTEM,
        { name: AUDIT_KEY, algorithm: 'ed25519', purpose: 'audit-checkpoint' },
        true,
      );
      logger.info('created the audit checkpoint key');
    } else if (!activeVersion(auditKey)) {
      await services.keys.rotate(SYSTEM, AUDIT_KEY);
      logger.warn('the audit checkpoint key had no active version: rotated it');
    }
    const principals = await services.auth.listPrincipals();
    if (principals.length === 0) {
      await services.auth.createPrincipal({
        name: 'admin',
        role: 'admin',
        scopes: [],
        certificateFingerprints: [],
      });
    } else if (!(await unfinished(services, principals))) return undefined;
    const { token } = await services.auth.createToken('admin');
    const file = path.join(services.config.dataDir, 'admin.token');
    writeDurably(file, token + '\n');
    logger.warn(
      { path: file },
      principals.length === 0
        ? 'first start: wrote the bootstrap admin token (mode 0600); keep it safe and rotate it'
        : 'the bootstrap admin had no usable token (a first start stopped before writing it): ' +
            'wrote a new one (mode 0600)',
    );
    return file;
  });
}

/**
 * A first start that committed the bootstrap admin but stopped (a crash, a full disk) before its
 * token was on disk left a store that nobody can administer: the admin is still the only
 * principal and has no token that works. A later start finishes it by issuing a token, as the
 * first start would have.
 */
async function unfinished(services: Services, principals: readonly { name: string }[]) {
  if (principals.length !== 1 || principals[0]!.name !== 'admin') return false;
  const now = services.deps.now();
  const tokens = await services.auth.listTokens('admin');
  return tokens.every((t) => t.revoked || Date.parse(t.expiresAt) <= now);
}

/** Writes `file` (mode 0600) so that it is on disk, whole, before the call returns. */
function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
