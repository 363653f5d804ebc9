/**
 * The OpenAPI 3.1 document and its console (API.md "Health, docs, metrics"; ARCHITECTURE.md
 * "Operations"). The document is generated from the route schemas (STYLE.md rule 9); this file
 * only adds what a route schema cannot say about itself: bearer security or none (from the
 * route's `config.roles`), and the error responses every route shares, in the one error shape.
 * The console is Swagger UI with the assets shipped in @fastify/swagger-ui, served from here: the
 * page loads nothing from another origin (its CSP says so too).
 */
import swagger, { formatParamUrl, type SwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.js';
import { DESCRIPTIONS, OPERATIONS, tagOf } from './openapi-operations.js';
import { ErrorSchema } from './openapi-schemas.js';

type Json = Record<string, unknown>;
type Operation = Json & { responses?: Json; parameters?: unknown[]; requestBody?: unknown };

const DESCRIPTION = `Zoo KMS REST API v1. Every \`/v1\` route takes \`Authorization: Bearer <token>\`
(use **Authorize** above); \`x-kms-roles\` on each operation names the roles that may call it
(\`admin\` may call every route). Errors are \`{"error": {"code", "message", "requestId"}}\`; every
response carries \`x-request-id\`. Hex values are lowercase and 0x-prefixed, 64-bit integers are
decimal strings, timestamps are Unix seconds.`;

const TAGS = [
  ['system', 'Health, readiness, metrics and published keys (no token)'],
  ['principals', 'Principals and bearer tokens (admin)'],
  ['keys', 'Key administration, signing and verification'],
  ['encryption', 'Envelope encryption, data keys and derived keys (role encryption)'],
  ['validators', 'Validator block signatures and slashing protection'],
  ['bridge', 'Bridge message signatures (LP-401)'],
  ['experience', 'Per-user experience encryption'],
  ['replicate', 'Hanzo Replicate age identities'],
  ['audit', 'Audit log and providers (admin)'],
].map(([name, description]) => ({ name: name!, description: description! }));

/** Registers the document generator, `/openapi.json` and the console at `/docs`. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const options: SwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Zoo KMS', version: 'v1', description: DESCRIPTION },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'A token from POST /v1/principals/{name}/tokens (or admin.token).',
          },
        },
        schemas: { Error: ErrorSchema as never },
      },
      security: [{ bearerAuth: [] }],
      tags: TAGS,
    },
    transform: ({ schema, url, route }) => {
      const roles = (route.config as { roles?: unknown } | undefined)?.roles ?? 'public';
      const key = `${String(route.method)} ${formatParamUrl(url)}`;
      const doc = OPERATIONS[key];
      const description = DESCRIPTIONS[key];
      const s = (schema ?? {}) as Json;
      return {
        url,
        schema: {
          ...s,
          tags: s.tags ?? [tagOf(url)],
          ...(s.summary || !doc ? {} : { summary: doc.summary }),
          ...(s.description || !description ? {} : { description }),
          'x-kms-roles': roles,
        } as unknown as typeof schema,
      };
    },
    transformObject: (d) => finish((d as { openapiObject: Json }).openapiObject) as never,
  };
  await app.register(swagger, options);
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, displayRequestDuration: true, persistAuthorization: false },
    staticCSP:
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
      "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
      "frame-ancestors 'none'",
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** The document as committed in openapi/openapi.json: stable key order, two-space indent. */
export function renderOpenApi(app: FastifyInstance): string {
  return JSON.stringify(app.swagger(), null, 2) + '\n';
}

function finish(doc: Json): Json {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      const roles = op['x-kms-roles'];
      if (roles === 'public') op.security = [];
      const specific = OPERATIONS[`${method.toUpperCase()} ${path}`]?.errors ?? [];
      const codes = [...commonErrors(path, op, roles), ...specific];
      op.responses = { ...errorResponses(codes), ...op.responses };
      for (const r of Object.values(op.responses)) addRequestIdHeader(r as Json);
    }
  }
  const components = doc.components as Json;
  components.examples = Object.fromEntries(
    Object.entries(ERRORS).map(([code, e]) => [
      code,
      {
        summary: e.message,
        value: { error: { code, message: e.message, requestId: 'req_5f2a9c1e7b3d4a60' } },
      },
    ]),
  );
  components.headers = {
    RequestId: {
      description: 'The request id (the one sent, if well-formed, or a new one)',
      schema: { type: 'string', examples: ['req_5f2a9c1e7b3d4a60'] },
    },
  };
  return doc;
}

/** Codes any route of its kind can answer: auth, malformed input, an unavailable dependency. */
function commonErrors(path: string, op: Operation, roles: unknown): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (roles !== 'public') codes.push('UNAUTHENTICATED', 'FORBIDDEN');
  if (op.parameters?.length || op.requestBody) codes.push('INVALID_REQUEST');
  if (op.requestBody) codes.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (path.startsWith('/v1/')) {
    codes.push('STORE_UNAVAILABLE', 'AUDIT_UNAVAILABLE');
    const tag = tagOf(path);
    if (tag !== 'principals' && tag !== 'audit') codes.push('PROVIDER_UNAVAILABLE');
    codes.push('INTERNAL');
  }
  return codes;
}

/** One response per status; its description lists the codes, with one example body per code. */
export function errorResponses(codes: readonly ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of new Set(codes)) {
    const list = byStatus.get(ERRORS[c].status) ?? [];
    list.push(c);
    byStatus.set(ERRORS[c].status, list);
  }
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const examples = Object.fromEntries(
      list.map((c) => [c, { $ref: `#/components/examples/${c}` }]),
    );
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join('; '),
      ...(list.includes('RATE_LIMITED')
        ? { headers: { 'retry-after': { description: 'seconds', schema: { type: 'integer' } } } }
        : {}),
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/Error' }, examples },
      },
    };
  }
  return out;
}

function addRequestIdHeader(response: Json): void {
  response.headers = {
    'x-request-id': { $ref: '#/components/headers/RequestId' },
    ...(response.headers as Json | undefined),
  };
}
