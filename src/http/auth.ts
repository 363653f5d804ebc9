/**
 * Authentication and role checks for `/v1` routes (API.md "Who may call what"). A route declares
 * its roles in `config.roles` (`'any'` for every valid token); `admin` passes every role check.
 * Key-scope checks happen in the handlers, because they need the key name.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KmsError } from '../errors.js';
import type { AuthService, Principal, Role } from '../services/auth.js';
import type { RateLimiter } from '../services/rate-limit.js';
import type { Caller } from '../services/context.js';

export type RouteRoles = readonly Role[] | 'any' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteRoles;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Set when the request was refused before any service saw it (auth hook, schema). */
    earlyRefusal?: boolean;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,512})$/;

export interface AuthOptions {
  readonly clientCerts: boolean;
  /** `auth.rate_limit.per_principal` (per instance): 429 RATE_LIMITED with retry-after. */
  readonly perPrincipal?: RateLimiter;
}

export function registerAuth(app: FastifyInstance, auth: AuthService, opts: AuthOptions): void {
  // onRequest: the caller is known before the body is parsed or validated, so an unauthenticated
  // request is always 401 (never a 400 that reveals the schema).
  app.addHook('onRequest', async (req) => {
    const roles = req.routeOptions.config.roles ?? 'public';
    if (roles === 'public') return;
    req.earlyRefusal = true;
    const principal = await identify(req, auth, opts.clientCerts);
    if (!principal) throw new KmsError('UNAUTHENTICATED');
    req.principal = principal;
    opts.perPrincipal?.consume(`principal:${principal.name}`, `principal ${principal.name}`);
    if (roles !== 'any' && principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw new KmsError(
        'FORBIDDEN',
        `role ${principal.role} may not call ${req.method} ${req.routeOptions.url}`,
      );
    }
  });
  app.addHook('preHandler', (req, _reply, done) => {
    req.earlyRefusal = false;
    done();
  });
}

async function identify(
  req: FastifyRequest,
  auth: AuthService,
  clientCerts: boolean,
): Promise<Principal | undefined> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = BEARER.exec(header);
    return m ? auth.authenticate(m[1]!) : undefined;
  }
  if (!clientCerts) return undefined;
  const socket = req.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.raw) return undefined;
  return auth.byCertificate(createHash('sha256').update(cert.raw).digest('hex'));
}

/** The authenticated caller of a `/v1` route. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.principal) throw new KmsError('UNAUTHENTICATED');
  return { principal: req.principal, requestId: req.id };
}
