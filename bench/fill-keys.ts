/**
 * The prep step of `startup-10k-keys`: `tsx bench/fill-keys.ts <total>` with the server's
 * environment (KMS_DATA_DIR, DATABASE_URL) and no server running on it. It adds keys until the
 * store holds `total`, as KeysService.create stores them (fresh material, one wrap per provider,
 * the key and version rows, one `key.create` audit event each) but 500 to a transaction, which
 * takes seconds instead of a minute: a tenth validator keys, the rest AES data keys.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/load.js';
import { buildApp, type Kms } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import type { Algorithm } from '../src/providers/provider.js';
import type { Purpose } from '../src/keyring/record.js';
import { generateSecret, publicKeyOf } from '../src/keyring/material.js';
import { insertKey, insertVersion } from '../src/keyring/repository.js';

const PER_TRANSACTION = 500;

interface Prepared {
  readonly id: string;
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly purpose: Purpose;
  readonly publicKey: Uint8Array | null;
  readonly wraps: Map<string, Uint8Array>;
}

async function prepare(kms: Kms, i: number): Promise<Prepared> {
  const [algorithm, purpose]: [Algorithm, Purpose] =
    i % 10 === 0 ? ['bls12-381', 'validator'] : ['aes-256-gcm', 'encryption'];
  const secret = generateSecret(algorithm);
  try {
    const { keyring, deps } = kms.services;
    return {
      id: randomUUID(),
      name: `bench-k-${i}`,
      algorithm,
      purpose,
      publicKey: publicKeyOf(algorithm, secret, deps.bls),
      wraps: await keyring.wrapForAll(algorithm, secret),
    };
  } finally {
    secret.fill(0);
  }
}

async function store(kms: Kms, keys: Prepared[]): Promise<void> {
  const { writer, audit, now, config } = kms.services.deps;
  const at = now();
  await writer.run(async (trx) => {
    for (const k of keys) {
      const chains = k.purpose === 'validator' ? config.chains.map((c) => c.id) : null;
      const spec = { ...k, chains, jwks: false, residency: 'wrapped' as const, provider: null };
      await insertKey(trx, spec, at);
      await insertVersion(trx, k.id, 1, k.publicKey, k.wraps, at);
      const event = { action: 'key.create', principal: 'bench', keyName: k.name, keyVersion: 1 };
      await audit.append(trx, { ...event, requestId: 'bench-fill-keys' }, 'success');
    }
  });
}

const total = Number(process.argv[2] ?? 10_000);
const kms = await buildApp(loadConfig(process.env), { logger: createLogger('warn') });
try {
  const existing = (await kms.services.keyNames()).length;
  for (let from = 0; from < total - existing; from += PER_TRANSACTION) {
    const count = Math.min(PER_TRANSACTION, total - existing - from);
    const keys = await Promise.all(Array.from({ length: count }, (_, j) => prepare(kms, from + j)));
    await store(kms, keys);
  }
  process.stdout.write(JSON.stringify({ keys: (await kms.services.keyNames()).length }) + '\n');
} finally {
  await kms.close();
}
