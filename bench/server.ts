/**
 * The benchmark's server process: the production composition (config from the environment, every
 * capability route) plus the bare baseline routes of ./bare-routes.ts. Being a separate entry is
 * the "bench flag": src/main.ts never registers those routes. Logs go to stdout as in production.
 */
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { capabilityRoutes } from '../src/capabilities.js';
import { bareRoutes } from './bare-routes.js';

const config = loadConfig(process.env);
const logger = createLogger(config.server.logLevel);
const kms = await buildApp(config, {
  logger,
  extend: async (services) => [...(await capabilityRoutes(services)), bareRoutes(services)],
});
const stop = async () => {
  await kms.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
const address = await kms.app.listen({ host: config.server.host, port: config.server.port });
logger.info({ address, instance: kms.instanceId }, 'bench server listening');
