/**
 * The OpenAPI document (issue 9): committed openapi/openapi.json equals what the routes produce
 * (drift), it is a well-formed OpenAPI 3.1 document (structure checked here; every schema checked
 * against the JSON Schema 2020-12 meta-schema, and every example against its schema), it lists
 * every route of API.md, and it is served at /openapi.json with the console at /docs, without a
 * token and without anything from another origin.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startKms, type TestKms } from '../support/kms.js';
import { renderOpenApi } from '../../src/http/openapi.js';
import { ERRORS } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMMITTED = path.join(ROOT, 'openapi/openapi.json');

/** Every route of ../shared/API.md, by section (method, path in OpenAPI form, public?). */
const API_ROUTES: [string, string, 'public' | 'token'][] = [
  // Health, docs, metrics (/openapi.json and /docs are the document and console themselves)
  ['GET', '/healthz', 'public'],
  ['GET', '/readyz', 'public'],
  ['GET', '/metrics', 'public'],
  // Principals and tokens
  ['POST', '/v1/principals', 'token'],
  ['GET', '/v1/principals', 'token'],
  ['PATCH', '/v1/principals/{name}', 'token'],
  ['DELETE', '/v1/principals/{name}', 'token'],
  ['POST', '/v1/principals/{name}/tokens', 'token'],
  ['GET', '/v1/principals/{name}/tokens', 'token'],
  ['DELETE', '/v1/tokens/{tokenId}', 'token'],
  // Keys
  ['POST', '/v1/keys', 'token'],
  ['POST', '/v1/keys/import', 'token'],
  ['GET', '/v1/keys', 'token'],
  ['GET', '/v1/keys/{name}', 'token'],
  ['POST', '/v1/keys/{name}/rotate', 'token'],
  ['PATCH', '/v1/keys/{name}', 'token'],
  ['DELETE', '/v1/keys/{name}/versions/{version}', 'token'],
  ['DELETE', '/v1/keys/{name}', 'token'],
  ['POST', '/v1/keys/{name}/sign', 'token'],
  ['POST', '/v1/keys/{name}/verify', 'token'],
  ['POST', '/v1/verify', 'token'],
  ['GET', '/.well-known/jwks.json', 'public'],
  // Encryption, data keys, derived keys
  ['POST', '/v1/keys/{name}/encrypt', 'token'],
  ['POST', '/v1/keys/{name}/decrypt', 'token'],
  ['POST', '/v1/keys/{name}/rewrap', 'token'],
  ['POST', '/v1/keys/{name}/datakey', 'token'],
  ['POST', '/v1/keys/{name}/derive', 'token'],
  // Validators
  ['POST', '/v1/validators/{key}/block-signatures', 'token'],
  ['POST', '/v1/validators/{key}/proof-of-possession', 'token'],
  ['GET', '/v1/validators/{key}/watermark', 'token'],
  ['GET', '/v1/validators/slashing-protection', 'token'],
  ['POST', '/v1/validators/slashing-protection', 'token'],
  // Bridge
  ['POST', '/v1/bridge/{key}/signatures', 'token'],
  ['POST', '/v1/bridge/verify', 'token'],
  // Experience library
  ['POST', '/v1/experience/encrypt', 'token'],
  ['POST', '/v1/experience/decrypt', 'token'],
  ['POST', '/v1/experience/rewrap', 'token'],
  ['POST', '/v1/experience/encrypt:batch', 'token'],
  ['POST', '/v1/experience/decrypt:batch', 'token'],
  ['DELETE', '/v1/experience/users/{userId}', 'token'],
  ['POST', '/v1/experience/rotate', 'token'],
  // Replicate
  ['GET', '/v1/replicate/{ecosystem}/{env}/{service}/recipients', 'token'],
  ['POST', '/v1/replicate/{ecosystem}/{env}/{service}/identity', 'token'],
  ['POST', '/v1/replicate/{ecosystem}/{env}/rotate', 'token'],
  // Audit and providers
  ['GET', '/v1/audit/events', 'token'],
  ['GET', '/v1/audit/verify', 'token'],
  ['GET', '/v1/audit/checkpoint-key', 'token'],
  ['GET', '/v1/providers', 'token'],
];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let t: TestKms;
let doc: any;
let generated: string;
beforeAll(async () => {
  t = await startKms();
  await t.kms.app.ready();
  generated = renderOpenApi(t.kms.app);
  doc = JSON.parse(generated);
});
afterAll(async () => {
  await t?.close();
});

function operations(): { path: string; method: string; op: any }[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path: p, method, op })),
  );
}

/** Resolves a local `#/...` reference, or undefined. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), doc);
}

function walk(node: unknown, visit: (n: any, at: string) => void, at = '#'): void {
  if (node === null || typeof node !== 'object') return;
  visit(node, at);
  for (const [k, v] of Object.entries(node)) walk(v, visit, `${at}/${k}`);
}

/** Every Schema Object of the document: components, parameters, bodies, responses, headers. */
function schemas(): { at: string; schema: any }[] {
  const out: { at: string; schema: any }[] = [];
  for (const [name, s] of Object.entries(doc.components.schemas ?? {}))
    out.push({ at: `components.schemas.${name}`, schema: s });
  for (const { path: p, method, op } of operations()) {
    const at = `${method.toUpperCase()} ${p}`;
    for (const prm of op.parameters ?? [])
      out.push({ at: `${at} ${prm.name}`, schema: prm.schema });
    for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {}))
      out.push({ at: `${at} body ${type}`, schema: media.schema });
    for (const [status, r] of Object.entries<any>(op.responses))
      for (const [type, media] of Object.entries<any>(r.content ?? {}))
        out.push({ at: `${at} ${status} ${type}`, schema: media.schema });
  }
  return out;
}

describe('openapi/openapi.json', () => {
  it('is what the routes produce (run `npm run openapi` after changing a route)', () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    // Compare parsed first for a readable diff, then the bytes (formatting is part of the file).
    expect(JSON.parse(committed)).toEqual(doc);
    expect(committed).toBe(generated);
  });

  it('is served at /openapi.json without a token', async () => {
    const res = await t.call('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(doc);
  });

  it('lists every route of API.md with its security', () => {
    const missing = API_ROUTES.filter(([m, p]) => !doc.paths[p]?.[m.toLowerCase()]).map(
      ([m, p]) => `${m} ${p}`,
    );
    expect(missing).toEqual([]);
    for (const [m, p, access] of API_ROUTES) {
      const op = doc.paths[p][m.toLowerCase()];
      const security = op.security ?? doc.security;
      if (access === 'public') expect(security, `${m} ${p}`).toEqual([]);
      else expect(security, `${m} ${p}`).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('documents nothing that is not a route of API.md', () => {
    const listed = new Set(API_ROUTES.map(([m, p]) => `${m} ${p}`));
    const extra = operations()
      .map(({ method, path: p }) => `${method.toUpperCase()} ${p}`)
      .filter((k) => !listed.has(k));
    expect(extra).toEqual([]);
  });
});

describe('OpenAPI 3.1 structure', () => {
  it('has the 3.1 root fields and the bearer security scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const allowedRoot = [
      'openapi',
      'info',
      'jsonSchemaDialect',
      'servers',
      'paths',
      'webhooks',
      'components',
      'security',
      'tags',
      'externalDocs',
    ];
    expect(Object.keys(doc).filter((k) => !allowedRoot.includes(k) && !k.startsWith('x-'))).toEqual(
      [],
    );
  });

  it('gives every operation a summary, declared tags, responses with descriptions', () => {
    const tags = new Set((doc.tags as { name: string }[]).map((x) => x.name));
    for (const { path: p, method, op } of operations()) {
      const at = `${method} ${p}`;
      expect(typeof op.summary, at).toBe('string');
      expect(op.tags?.length, at).toBeGreaterThan(0);
      for (const tag of op.tags) expect(tags.has(tag), `${at} tag ${tag}`).toBe(true);
      expect(Object.keys(op.responses).length, at).toBeGreaterThan(0);
      for (const [status, r] of Object.entries<any>(op.responses)) {
        expect(status, at).toMatch(/^([1-5][0-9X]{2}|default)$/);
        expect(typeof r.description, `${at} ${status}`).toBe('string');
        expect(r.headers?.['x-request-id'], `${at} ${status}`).toBeDefined();
      }
      expect(
        Object.keys(op.responses).some((s) => s.startsWith('2')),
        at,
      ).toBe(true);
    }
  });

  it('declares every path parameter, and only those', () => {
    for (const { path: p, method, op } of operations()) {
      const inPath = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((x: any) => x.in === 'path');
      expect(declared.map((x: any) => x.name).sort(), `${method} ${p}`).toEqual(inPath);
      for (const d of declared) expect(d.required, `${method} ${p} ${d.name}`).toBe(true);
      for (const x of op.parameters ?? [])
        expect(['path', 'query', 'header', 'cookie'], `${method} ${p}`).toContain(x.in);
    }
  });

  it('resolves every $ref inside the document', () => {
    const broken: string[] = [];
    walk(doc, (n, at) => {
      if (typeof n.$ref === 'string' && resolve(n.$ref) === undefined)
        broken.push(`${at}: ${n.$ref}`);
    });
    expect(broken).toEqual([]);
  });

  it('has only JSON Schema 2020-12 schemas, and examples that match them', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ ...doc, $id: 'doc' }, 'doc');
    // OpenAPI 3.1 Schema Objects are JSON Schema 2020-12 (OAS 3.1 sec. 4.8.24).
    const bad: string[] = [];
    for (const { at, schema } of schemas()) {
      const s = rewriteRefs(schema);
      if (!ajv.validateSchema(s)) bad.push(`${at}: ${ajv.errorsText(ajv.errors)}`);
      const examples = [...(schema.examples ?? []), ...(schema.example ? [schema.example] : [])];
      for (const ex of examples) {
        if (!ajv.validate(s, ex)) bad.push(`${at} example: ${ajv.errorsText(ajv.errors)}`);
      }
    }
    for (const { path: p, method, op } of operations()) {
      for (const [status, r] of Object.entries<any>({ ...op.responses, body: op.requestBody })) {
        for (const media of Object.values<any>(r?.content ?? {})) {
          const values = [
            ...(media.example !== undefined ? [media.example] : []),
            ...Object.values<any>(media.examples ?? {}).map((e) =>
              e.$ref ? (resolve(e.$ref) as any).value : e.value,
            ),
          ];
          for (const v of values)
            if (!ajv.validate(rewriteRefs(media.schema), v))
              bad.push(`${method} ${p} ${status} example: ${ajv.errorsText(ajv.errors)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('describes errors with the one shape, listing every code of src/errors.ts', () => {
    const error = doc.components.schemas.Error;
    expect(error.properties.error.required).toEqual(['code', 'message', 'requestId']);
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(ERRORS));
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(error.description).toContain(`${code} ${e.status}`);
      expect(doc.components.examples[code].value.error.code).toBe(code);
    }
    for (const { path: p, method, op } of operations()) {
      for (const [status, r] of Object.entries<any>(op.responses)) {
        // /readyz answers 503 with its own body (API.md "Health, docs, metrics").
        if (Number(status) < 400 || (p === '/readyz' && status === '503')) continue;
        expect(r.content['application/json'].schema, `${method} ${p} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
        for (const code of Object.keys(r.content['application/json'].examples))
          expect(ERRORS[code as keyof typeof ERRORS].status, `${method} ${p} ${code}`).toBe(
            Number(status),
          );
      }
    }
  });

  it('documents the refusals API.md names for its routes', () => {
    const codes = (m: string, p: string) =>
      Object.values<any>(doc.paths[p][m].responses).flatMap((r) =>
        Object.keys(r.content?.['application/json']?.examples ?? {}),
      );
    expect(codes('post', '/v1/keys/{name}/sign')).toEqual(
      expect.arrayContaining(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WRONG_PURPOSE']),
    );
    expect(codes('post', '/v1/validators/{key}/block-signatures')).toEqual(
      expect.arrayContaining(['DOUBLE_SIGN', 'HEIGHT_REGRESSION', 'CHAIN_NOT_ALLOWED']),
    );
    expect(codes('post', '/v1/bridge/{key}/signatures')).toEqual(
      expect.arrayContaining([
        'NONCE_REUSED',
        'CHAIN_NOT_ALLOWED',
        'MESSAGE_EXPIRED',
        'TIMESTAMP_IN_FUTURE',
      ]),
    );
    expect(codes('post', '/v1/experience/decrypt')).toEqual(
      expect.arrayContaining(['DECRYPTION_FAILED', 'USER_KEY_DESTROYED']),
    );
    expect(codes('get', '/healthz')).toEqual([]);
  });
});

describe('the console', () => {
  it('serves /docs without a token, with assets from this server only', async () => {
    const page = await t.kms.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const a of assets) {
      expect(a, 'no absolute URL').not.toMatch(/^(https?:)?\/\//);
      const res = await t.kms.app.inject({
        method: 'GET',
        url: new URL(a, 'http://x/docs/').pathname,
      });
      expect(res.statusCode, a).toBe(200);
    }
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const init = await t.kms.app.inject({
      method: 'GET',
      url: '/docs/static/swagger-initializer.js',
    });
    expect(init.body).toContain('validatorUrl: null');
  });
});

/** Local refs point into the document registered as `doc` in Ajv. */
function rewriteRefs(schema: any): any {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"doc#/'));
}
