/**
 * A fake AWS CloudHSM v2 API for tests (STYLE.md rule 12: the real @aws-sdk/client-cloudhsm-v2
 * talks to it over the real protocol). It answers DescribeClusters as the service does: AWS JSON
 * 1.1 over HTTP POST to `/`, the operation in `X-Amz-Target: BaldrApiService.DescribeClusters`,
 * requests signed with Signature Version 4 for the service `cloudhsm`, which this fake verifies
 * against its one access key. Errors are JSON bodies with `__type`, as the AWS JSON protocol has
 * them. The tests change cluster and HSM states to drive health and failover.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHsm {
  id: string;
  zone: string;
  ip: string;
  state: 'ACTIVE' | 'CREATE_IN_PROGRESS' | 'DEGRADED' | 'DELETED' | 'DELETE_IN_PROGRESS';
}

export interface FakeCluster {
  id: string;
  state: string;
  hsms: FakeHsm[];
}

export interface FakeCloudHsm {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly clusters: FakeCluster[];
  /** `down`: every request answers 503 ServiceUnavailableException. */
  fault: 'none' | 'down';
  readonly calls: { described: number; badSignature: number };
  addCluster(id: string, hsms?: number): FakeCluster;
  stop(): Promise<void>;
}

const TARGET = 'BaldrApiService.DescribeClusters';

export async function startFakeCloudHsm(region = 'us-east-1'): Promise<FakeCloudHsm> {
  const credentials = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  const clusters: FakeCluster[] = [];
  const calls = { described: 0, badSignature: 0 };
  const state = { fault: 'none' as 'none' | 'down' };

  const handle = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    if (state.fault === 'down') return error(res, 503, 'ServiceUnavailableException', 'down');
    if (req.method !== 'POST' || req.url !== '/')
      return error(res, 404, 'UnknownOperationException', 'not found');
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return error(res, 400, 'SerializationException', 'expected application/x-amz-json-1.1');
    if (req.headers['x-amz-target'] !== TARGET)
      return error(res, 400, 'UnknownOperationException', String(req.headers['x-amz-target']));
    if (!verifySigV4(req, body, credentials, region)) {
      calls.badSignature++;
      return error(res, 403, 'InvalidSignatureException', 'The request signature does not match');
    }
    calls.described++;
    const input = JSON.parse(body.toString() || '{}') as { Filters?: { clusterIds?: string[] } };
    const ids = input.Filters?.clusterIds;
    const found = clusters.filter((c) => !ids || ids.includes(c.id));
    send(res, 200, { Clusters: found.map(clusterJson) });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    credentials,
    clusters,
    get fault() {
      return state.fault;
    },
    set fault(f) {
      state.fault = f;
    },
    calls,
    addCluster(id, hsms = 2) {
      const zones = ['a', 'b', 'c'];
      const c: FakeCluster = {
        id,
        state: 'ACTIVE',
        hsms: Array.from({ length: hsms }, (_, i) => ({
          id: `hsm-${id.slice(-6)}${i}`,
          zone: `${region}${zones[i % 3]}`,
          ip: `10.0.${i}.10`,
          state: 'ACTIVE' as const,
        })),
      };
      clusters.push(c);
      return c;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function clusterJson(c: FakeCluster) {
  return {
    ClusterId: c.id,
    State: c.state,
    HsmType: 'hsm1.medium',
    VpcId: 'vpc-0123456789',
    Hsms: c.hsms.map((h) => ({
      HsmId: h.id,
      ClusterId: c.id,
      AvailabilityZone: h.zone,
      EniIp: h.ip,
      State: h.state,
    })),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomBytes(16).toString('hex'),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { __type: type, message });
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data).digest();

/** Signature Version 4 (AWS General Reference, "Create a signed AWS API request"). */
function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  creds: { accessKeyId: string; secretAccessKey: string },
  region: string,
): boolean {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!m || m[1] !== creds.accessKeyId || m[3] !== region || m[4] !== 'cloudhsm') return false;
  if (!amzDate.startsWith(m[2]!)) return false;
  const signed = m[5]!.split(';');
  const canonicalHeaders = signed
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = ['POST', '/', '', canonicalHeaders, m[5], sha256(body)].join('\n');
  const scope = `${m[2]}/${region}/cloudhsm/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, m[2]!);
  for (const part of [region, 'cloudhsm', 'aws4_request']) key = hmac(key, part);
  return hmac(key, toSign).toString('hex') === m[6];
}
