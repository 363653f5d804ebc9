/**
 * TLS from config, client certificates (mTLS) mapped to principals by SHA-256 fingerprint, and the
 * per-principal rate limit (429 with retry-after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startKms, principalToken, type TestKms } from '../support/kms.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-tls-'));
const file = (n: string) => path.join(dir, n);
function openssl(...args: string[]) {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

beforeAll(() => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=zoo-kms-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'sidecar'],
    ['stranger', 'stranger'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      file(`${name}.crt`),
      ...(name === 'server' ? ['-extfile', writeSan()] : []),
    );
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeSan(): string {
  const f = file('san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${f}`]);
  return f;
}

function get(
  port: number,
  urlPath: string,
  opts: { cert?: string; token?: string } = {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        ca: readFileSync(file('ca.crt')),
        ...(opts.cert
          ? {
              cert: readFileSync(file(`${opts.cert}.crt`)),
              key: readFileSync(file(`${opts.cert}.key`)),
            }
          : {}),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: data ? JSON.parse(data) : undefined,
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  let t: TestKms;
  let port: number;
  afterAll(async () => t?.close());

  it('serves HTTPS and maps client certificates to principals', async () => {
    t = await startKms({
      config: {
        server: {
          tls: {
            cert_file: file('server.crt'),
            key_file: file('server.key'),
            client_ca_file: file('ca.crt'),
            require_client_cert: true,
          },
        },
      },
    });
    await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.kms.app.server.address() as AddressInfo).port;
    const fingerprint = createHash('sha256')
      .update(new X509Certificate(readFileSync(file('client.crt'))).raw)
      .digest('hex');
    await t.call('POST', '/v1/principals', {
      body: {
        name: 'sidecar',
        role: 'signing',
        scopes: ['*'],
        certificateFingerprints: [fingerprint],
      },
    });
    const withCert = await get(port, '/v1/keys', { cert: 'client' });
    expect(withCert.status).toBe(200);
    const stranger = await get(port, '/v1/keys', { cert: 'stranger' });
    expect(stranger.status).toBe(401);
    const admin = await get(port, '/v1/principals', { cert: 'stranger', token: t.adminToken });
    expect(admin.status).toBe(200);
    await expect(get(port, '/healthz')).rejects.toThrow();
  });
});

describe('per-principal rate limit', () => {
  it('answers 429 RATE_LIMITED with retry-after past the configured rate', async () => {
    const t = await startKms({ config: { auth: { rate_limit: { per_principal: '5/s' } } } });
    try {
      const token = await principalToken(t, 'busy', 'signing', ['*']);
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 12; i++) {
        const r = await t.call('GET', '/v1/keys', { token });
        statuses.push(r.status);
        if (r.status === 429) {
          expect(r.body.error.code).toBe('RATE_LIMITED');
          retryAfter = r.headers['retry-after'];
        }
      }
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});
