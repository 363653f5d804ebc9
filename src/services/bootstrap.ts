/**
 * Start-up work that must happen once across instances, under the store lock (ARCHITECTURE.md
 * "Several instances"): the audit checkpoint key, and on an empty store the bootstrap admin
 * principal whose token is written to `$KMS_DATA_DIR/admin.token` (0600). Only the path is logged.
 */
import { writeFileSync } from 'node:fs';
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
    if (await services.auth.hasPrincipals()) return undefined;
    await services.auth.createPrincipal({
      name: 'admin',
      role: 'admin',
      scopes: [],
      certificateFingerprints: [],
    });
    const { token } = await services.auth.createToken('admin');
    const file = path.join(services.config.dataDir, 'admin.token');
    writeFileSync(file, token + '\n', { mode: 0o600 });
    logger.warn(
      { path: file },
      'first start: wrote the bootstrap admin token (mode 0600); keep it safe and rotate it',
    );
    return file;
  });
}
