/** Issue 2, config: the CONFIG.md shape, unknown keys and bad values refused by name, overrides. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config.js';
import { BLS_TAGS } from '../../src/crypto/bls/tags.js';

describe('config', () => {
  it('has embedded defaults', () => {
    const c = buildConfig({}, {});
    expect(c.server).toMatchObject({
      host: '127.0.0.1',
      port: 8200,
      bodyLimit: 2 * 1024 * 1024,
      logLevel: 'info',
    });
    expect(c.storeUrl).toBe('');
    expect(c.dataDir).toMatch(/\/data$/);
    expect(c.providers).toEqual([
      expect.objectContaining({
        name: 'softhsm2',
        type: 'softhsm2',
        embedded: true,
        tokenLabel: 'zoo-kms',
      }),
    ]);
    expect(c.chains.map((ch) => [ch.id, ch.name, ch.signatureTag, ch.popTag])).toEqual([
      [122n, 'zoo', BLS_TAGS.SIG_NUL, BLS_TAGS.POP_PROVE],
      [120n, 'lux', BLS_TAGS.SIG_NUL, BLS_TAGS.POP_PROVE],
      [121n, 'hanzo', BLS_TAGS.SIG_NUL, BLS_TAGS.POP_PROVE],
    ]);
    expect(c.bridge).toEqual({
      chainId: 122n,
      allowedTargets: [120n, 121n],
      maxAgeSeconds: 3600,
      maxSkewSeconds: 30,
      maxPayload: 65536,
    });
    expect(c.experience).toMatchObject({ keyRotationDays: 90, maxPlaintext: 1024 * 1024 });
    expect(c.auth.tokenTtlSeconds).toBe(90 * 86400);
    expect(Object.isFrozen(c) && Object.isFrozen(c.server)).toBe(true);
  });

  it('applies environment overrides', () => {
    const c = buildConfig(
      { server: { port: 1 } },
      {
        KMS_DATA_DIR: '/tmp/x',
        KMS_HOST: '0.0.0.0',
        KMS_PORT: '9000',
        DATABASE_URL: 'postgres://h/db',
        KMS_INSTANCE_ID: 'a-1',
        KMS_LOG_LEVEL: 'debug',
      },
    );
    expect([
      c.dataDir,
      c.server.host,
      c.server.port,
      c.storeUrl,
      c.instanceId,
      c.server.logLevel,
    ]).toEqual(['/tmp/x', '0.0.0.0', 9000, 'postgres://h/db', 'a-1', 'debug']);
  });

  it.each([
    [{ kms: { bogus: 1 } }, 'kms.bogus'],
    [{ servr: {} }, 'servr'],
    [{ bridge: { max_age: 'one hour' } }, 'bridge.max_age'],
    [{ server: { port: 70000 } }, 'server.port'],
    [{ chains: [{ id: 1, name: 'a', colour: 'x' }] }, 'chains.0.colour'],
    [{ kms: { provider: 'luna' } }, 'luna'],
    [{ kms: { provider: 'x', providers: { x: { type: 'yubihsm2', library: '/l' } } } }, 'pin_file'],
    [
      {
        chains: [
          { id: 1, name: 'a' },
          { id: 1, name: 'b' },
        ],
      },
      'chains.1.id',
    ],
    [{ kms: { failover: { health_check_interval: '0s' } } }, 'kms.failover.health_check_interval'],
    [{ kms: { failover: { health_check_interval: 500 * 86_400 } } }, 'health_check_interval'],
    [{ audit: { checkpoint_interval: '0s' } }, 'audit.checkpoint_interval'],
    [{ audit: { checkpoint_interval: '999ms' } }, 'audit.checkpoint_interval'],
    [{ auth: { token_ttl: '0s' } }, 'auth.token_ttl'],
    [{ auth: { token_ttl: '1500ms' } }, 'auth.token_ttl must be whole seconds'],
    [{ auth: { token_ttl: '3651d' } }, 'auth.token_ttl'],
    [{ chains: [{ id: '18446744073709551616', name: 'a' }] }, 'chains.0.id must be at most 2^64-1'],
    [{ chains: [{ id: 2 ** 53, name: 'a' }] }, 'chains.0.id above 2^53-1'],
    [{ bridge: { chain_id: '99999999999999999999' } }, 'bridge.chain_id'],
    [{ bridge: { allowed_targets: [1, 2 ** 60] } }, 'bridge.allowed_targets.1'],
  ])('refuses %j naming %s', (raw, named) => {
    expect(() => buildConfig(raw, {})).toThrowError(ConfigError);
    expect(() => buildConfig(raw, {})).toThrowError(named);
  });

  it('takes the bounds themselves and a 2^64-1 chain id written as a string', () => {
    const c = buildConfig(
      {
        kms: { failover: { health_check_interval: '1s' } },
        audit: { checkpoint_interval: '1d' },
        auth: { token_ttl: '3650d' },
        chains: [{ id: '18446744073709551615', name: 'max' }],
      },
      {},
    );
    expect([
      c.failover.healthCheckIntervalMs,
      c.audit.checkpointIntervalMs,
      c.auth.tokenTtlSeconds,
      c.chains[0]!.id,
    ]).toEqual([1_000, 86_400_000, 3650 * 86_400, 2n ** 64n - 1n]);
  });

  it.each([
    [{ KMS_PORT: 'eighty' }, 'KMS_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ KMS_INSTANCE_ID: 'a b' }, 'KMS_INSTANCE_ID'],
    [{ KMS_LOG_LEVEL: 'loud' }, 'KMS_LOG_LEVEL'],
  ])('refuses the environment %j naming %s', (env, named) => {
    expect(() => buildConfig({}, env)).toThrowError(named);
  });

  it('orders providers: primary, then the failover list; named instances allow two of a vendor', () => {
    const c = buildConfig(
      {
        kms: {
          provider: 'hsm-a',
          providers: {
            'hsm-a': { type: 'softhsm2', token_label: 'a', pin_file: '/p/a' },
            'hsm-b': { type: 'softhsm2', token_label: 'b', pin_file: '/p/b' },
          },
          failover: { enabled: true, providers: ['hsm-a', 'hsm-b'], health_check_interval: '5s' },
        },
      },
      {},
    );
    expect(c.providers.map((p) => p.name)).toEqual(['hsm-a', 'hsm-b']);
    expect(c.failover).toEqual({ enabled: true, healthCheckIntervalMs: 5000 });
  });

  it('refuses the software provider in production unless explicitly allowed', () => {
    const raw = { kms: { provider: 'software', software: {} } };
    expect(() => buildConfig(raw, { NODE_ENV: 'production' })).toThrowError('production');
    expect(
      buildConfig(
        { kms: { provider: 'software', software: { allow_in_production: true } } },
        { NODE_ENV: 'production' },
      ).providers[0]!.type,
    ).toBe('software');
  });

  it('accepts kms.example.yaml', () => {
    const raw = parse(readFileSync(new URL('../../kms.example.yaml', import.meta.url), 'utf8'));
    expect(buildConfig(raw, {}).chains).toHaveLength(3);
  });
});
