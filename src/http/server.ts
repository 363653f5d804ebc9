/**
 * The Fastify instance: request ids, body limit, error mapping, auth, metrics hooks and routes.
 * Routes stay thin: schema, one service call, reply (STYLE.md rule 9).
 */
import { readFileSync } from 'node:fs';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyServerOptions,
  type preValidationHookHandler,
} from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../app.js';
import { RandomPool } from '../crypto/random-pool.js';
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './errors.js';
import { registerAuth } from './auth.js';
import { RateLimiter } from '../services/rate-limit.js';
import { systemRoutes } from './routes/system.js';
import { keyRoutes } from './routes/keys.js';
import { principalRoutes } from './routes/principals.js';
import { auditRoutes } from './routes/audit.js';
import { registerOpenApi } from './openapi.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

// Made ids are 8 random bytes from a pool of CSPRNG output (../crypto/random-pool.ts), each
// handed out once. Random rather than counted, so an id tells a caller nothing of the traffic
// between two of its requests.
const ID_BYTES = 8;
const ids = new RandomPool(ID_BYTES * 512);

function madeRequestId(): string {
  return `req_${ids.hex(ID_BYTES)}`;
}

export type RouteModule = (app: FastifyInstance, services: Services) => Promise<void>;

export async function createHttpServer(
  config: Config,
  services: Services,
  logger: Logger,
  extraRoutes: RouteModule[] = [],
): Promise<FastifyInstance> {
  const tls = config.server.tls;
  const options: FastifyServerOptions & { https?: unknown } = {
    loggerInstance: logger,
    // Two JSON lines per request took about a tenth of the main thread at signing rates
    // (docs/performance.md). Every key operation has its audit event and /metrics counts the
    // requests, so the per-request lines are kept for debug and trace.
    logController: new LogController({ disableRequestLogging: !logger.isLevelEnabled('debug') }),
    bodyLimit: config.server.bodyLimit,
    routerOptions: { maxParamLength: 512 },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : madeRequestId();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    frameworkErrors: frameworkErrorHandler,
    ...(tls
      ? {
          https: {
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            ...(tls.clientCaFile ? { ca: readFileSync(tls.clientCaFile) } : {}),
            requestCert: tls.requireClientCert,
            rejectUnauthorized: tls.requireClientCert,
          },
        }
      : {}),
  };
  const app = Fastify(options as FastifyServerOptions) as unknown as FastifyInstance;
  // JSON only (API.md "Conventions"): anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Hooks on every request are callback-style where they have nothing to wait for: an async hook
  // costs a promise and a microtask turn per request.
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  services.metrics.instrument(app);
  // A route whose body fields are all optional (`{ttlSeconds?}`, `{bytes?, context?, plaintext?}`)
  // takes a request with no body as `{}`: Fastify would validate the missing body as null and
  // refuse it. A body that is sent is validated as it is.
  app.addHook('onRoute', (route) => {
    if (!bodyIsOptional(route.schema?.body)) return;
    const hooks = route.preValidation;
    const empty: preValidationHookHandler = (req, _reply, done) => {
      if (req.body === undefined) req.body = {};
      done();
    };
    route.preValidation = [empty, ...(hooks === undefined ? [] : [hooks].flat())];
  });
  // A refusal decided before any service ran (role, schema) on a route that names a key is still
  // a key operation refused: it gets its audit event here (services audit their own refusals).
  // Awaited before the reply is sent, so the refusal is on record when the caller sees it.
  app.addHook('onSend', (req, reply, payload, done) => {
    const params = req.params as { name?: unknown; key?: unknown } | undefined;
    const key = params?.name ?? params?.key;
    if (req.earlyRefusal && req.principal && typeof key === 'string' && reply.statusCode >= 400) {
      req.earlyRefusal = false;
      const send = () => done(null, payload);
      void services
        .auditEarlyRefusal(req, key, reply.statusCode)
        .catch((e: unknown) => req.log.error({ err: e }, 'audit of a refusal failed'))
        .then(send, send);
      return;
    }
    done(null, payload);
  });
  registerAuth(app, services.auth, {
    clientCerts: tls?.requireClientCert ?? false,
    perPrincipal: new RateLimiter({ rate: config.auth.rateLimitPerPrincipal }),
  });
  // Before the routes: @fastify/swagger collects them as they are added.
  await registerOpenApi(app);
  for (const routes of [systemRoutes, principalRoutes, keyRoutes, auditRoutes, ...extraRoutes])
    await routes(app, services);
  return app;
}

/** An object schema that requires no property: a request may leave the whole body out. */
function bodyIsOptional(schema: unknown): boolean {
  const s = schema as { type?: unknown; required?: unknown } | undefined;
  return (
    s?.type === 'object' &&
    (s.required === undefined || (Array.isArray(s.required) && !s.required.length))
  );
}
