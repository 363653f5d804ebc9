/** Loads config, builds, listens, and closes cleanly on SIGTERM/SIGINT (ARCHITECTURE.md "Layers"). */
import { loadConfig, ConfigError } from './config/load.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';
import { capabilityRoutes } from './capabilities.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(78); // EX_CONFIG
  }
  const logger = createLogger(config.server.logLevel);
  const kms = await buildApp(config, { logger, extend: capabilityRoutes });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await kms.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  const address = await kms.app.listen({ host: config.server.host, port: config.server.port });
  logger.info(
    { address, instance: kms.instanceId, store: config.storeUrl ? 'postgres' : 'sqlite' },
    'zoo-kms listening',
  );
}

main().catch((e: unknown) => {
  console.error(`zoo-kms failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
