/**
 * The capability modules (validator, bridge, experience, replicate, envelope) wired onto the
 * foundation: each returns its route module, built from the shared services.
 */
import type { Services } from './app.js';
import type { RouteModule } from './http/server.js';
import { wrapRepairModule } from './keyring/repair.js';
import { validatorRoutes } from './http/routes/validators.js';
import { envelopeRoutes } from './http/routes/envelope.js';
import { replicateRoutes } from './http/routes/replicate.js';
import { bridgeRoutes } from './http/routes/bridge.js';
import { BridgeService } from './services/bridge.js';
import { experienceRoutes } from './http/routes/experience.js';
import { ExperienceService } from './services/experience/service.js';

export async function capabilityRoutes(services: Services): Promise<RouteModule[]> {
  return [
    wrapRepairModule({ ...services.deps, providers: services.providers }),
    validatorRoutes(services),
    envelopeRoutes,
    replicateRoutes(services),
    bridgeRoutes(new BridgeService(services.deps, services.keys)),
    experienceRoutes(new ExperienceService(services.deps, services.keys)),
  ];
}
