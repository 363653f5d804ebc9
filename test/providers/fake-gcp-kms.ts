/**
 * A fake Cloud KMS for tests (STYLE.md rule 12: a fake of a remote cloud API, talked to by the real
 * client library over the real protocol). It serves google.cloud.kms.v1.KeyManagementService, loaded
 * from the service.proto shipped in @google-cloud/kms, over gRPC with TLS, and checks what the real
 * service checks that matters here:
 * - the caller's `authorization: Bearer` token is a JWT signed (RS256) by the service-account key
 *   of the credentials file, issued for that account;
 * - Encrypt and Decrypt verify the request CRC32C fields and answer with theirs
 *   (`verified_*_crc32c`, `ciphertext_crc32c`, `plaintext_crc32c`); this fake also requires them;
 * - a ciphertext that does not authenticate under the named key and AAD answers INVALID_ARGUMENT.
 * Ciphertexts are AES-256-GCM (iv || ct || tag) under a per-CryptoKey random key: opaque, like the
 * real service's. `fault` makes it answer wrongly, to test that the client side rejects it.
 */
import { tlsIdentity } from './gcp-tls-roots.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { crc32c } from '../../src/providers/gcp/crc32c.js';

const require = createRequire(import.meta.url);
/** The protos shipped in @google-cloud/kms, and the google/api ones in its google-gax. */
const KMS_MAIN = require.resolve('@google-cloud/kms');
const KMS_PROTOS = path.resolve(path.dirname(KMS_MAIN), '../protos');
const API_PROTOS = path.resolve(
  path.dirname(createRequire(KMS_MAIN).resolve('google-gax')),
  '../protos',
);

export type Fault =
  | 'none'
  /** Encrypt answers a ciphertext_crc32c that does not match its ciphertext. */
  | 'ciphertext-crc'
  /** Decrypt answers a plaintext_crc32c that does not match its plaintext. */
  | 'plaintext-crc'
  /** Encrypt says it did not verify the request's plaintext CRC32C. */
  | 'unverified'
  /** A byte of the Encrypt ciphertext is flipped after its CRC32C was computed (damage in transit). */
  | 'damaged-ciphertext'
  /** Every call answers UNAVAILABLE. */
  | 'unavailable';

interface FakeKey {
  readonly secret: Buffer;
  purpose: 'ENCRYPT_DECRYPT' | 'ASYMMETRIC_SIGN';
  state: 'ENABLED' | 'DISABLED';
}

export interface FakeGcpKms {
  /** `localhost:port`, for the provider's `endpoint`. */
  readonly endpoint: string;
  /** A service-account credentials file the fake accepts. */
  readonly credentialsFile: string;
  readonly projectId: string;
  fault: Fault;
  /**
   * Calls by method name; `unauthenticated` for calls refused for their token; `crcVerified` for
   * requests whose CRC32C fields were present and matched.
   */
  readonly calls: Record<string, number>;
  /** Adds a CryptoKey (`keyRing/cryptoKeyId` under the project, location `global`). */
  addKey(keyRing: string, id: string, opts?: Partial<Omit<FakeKey, 'secret'>>): string;
  key(name: string): FakeKey | undefined;
  stop(): Promise<void>;
}

type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
type Done = grpc.sendUnaryData<unknown>;

function fail(done: Done, code: grpc.status, details: string): void {
  done({ code, details, name: 'Error', message: details });
}

const int64 = (v: number) => ({ value: String(v) });
const crcOf = (field: unknown): number | undefined => {
  const v = (field as { value?: unknown } | null | undefined)?.value;
  return v === undefined || v === null ? undefined : Number(String(v));
};

/** Checks a request CRC32C field against `data`; an error message, or undefined when it matches. */
function badCrc(field: unknown, data: Buffer, what: string): string | undefined {
  const crc = crcOf(field);
  if (crc === undefined) return `${what}_crc32c is required by this fake`;
  return crc === crc32c(data) ? undefined : `${what}_crc32c does not match (checksum mismatch)`;
}

export async function startFakeGcpKms(projectId = 'zoo-test'): Promise<FakeGcpKms> {
  const tls = tlsIdentity();
  const account = serviceAccount(projectId, tls.dir);
  const keys = new Map<string, FakeKey>();
  const calls: Record<string, number> = {};
  const state = { fault: 'none' as Fault };

  const authorised = (call: Call, done: Done, method: string): boolean => {
    calls[method] = (calls[method] ?? 0) + 1;
    if (state.fault === 'unavailable') {
      fail(done, grpc.status.UNAVAILABLE, 'the fake is down');
      return false;
    }
    const auth = String(call.metadata.get('authorization')[0] ?? '');
    if (!verifyJwt(auth.replace(/^Bearer /, ''), account.publicKey, account.email)) {
      calls.unauthenticated = (calls.unauthenticated ?? 0) + 1;
      fail(done, grpc.status.UNAUTHENTICATED, 'invalid or missing bearer token');
      return false;
    }
    return true;
  };

  const lookup = (name: unknown, done: Done): FakeKey | undefined => {
    const key = keys.get(String(name));
    if (!key) fail(done, grpc.status.NOT_FOUND, `${String(name)} not found`);
    else if (key.state !== 'ENABLED')
      fail(done, grpc.status.FAILED_PRECONDITION, `${String(name)} primary version is not enabled`);
    return key?.state === 'ENABLED' ? key : undefined;
  };

  const handlers = {
    GetCryptoKey(call: Call, done: Done) {
      if (!authorised(call, done, 'GetCryptoKey')) return;
      const name = String(call.request.name);
      const key = keys.get(name);
      if (!key) return fail(done, grpc.status.NOT_FOUND, `${name} not found`);
      done(null, {
        name,
        purpose: key.purpose,
        primary: { name: `${name}/cryptoKeyVersions/1`, state: key.state },
      });
    },
    Encrypt(call: Call, done: Done) {
      if (!authorised(call, done, 'Encrypt')) return;
      const r = call.request;
      const key = lookup(r.name, done);
      if (!key) return;
      const plaintext = r.plaintext as Buffer;
      const aad = r.additionalAuthenticatedData as Buffer;
      const bad =
        badCrc(r.plaintextCrc32c, plaintext, 'plaintext') ??
        badCrc(r.additionalAuthenticatedDataCrc32c, aad, 'additional_authenticated_data');
      if (bad) return fail(done, grpc.status.INVALID_ARGUMENT, bad);
      calls.crcVerified = (calls.crcVerified ?? 0) + 1;
      const ciphertext = seal(key.secret, plaintext, aad);
      const crc = (crc32c(ciphertext) ^ (state.fault === 'ciphertext-crc' ? 1 : 0)) >>> 0;
      if (state.fault === 'damaged-ciphertext') ciphertext[5]! ^= 0x01;
      done(null, {
        name: `${String(r.name)}/cryptoKeyVersions/1`,
        ciphertext,
        ciphertextCrc32c: int64(crc),
        verifiedPlaintextCrc32c: state.fault !== 'unverified',
        verifiedAdditionalAuthenticatedDataCrc32c: true,
        protectionLevel: 'SOFTWARE',
      });
    },
    Decrypt(call: Call, done: Done) {
      if (!authorised(call, done, 'Decrypt')) return;
      const r = call.request;
      const key = lookup(r.name, done);
      if (!key) return;
      const ciphertext = r.ciphertext as Buffer;
      const aad = r.additionalAuthenticatedData as Buffer;
      const bad =
        badCrc(r.ciphertextCrc32c, ciphertext, 'ciphertext') ??
        badCrc(r.additionalAuthenticatedDataCrc32c, aad, 'additional_authenticated_data');
      if (bad) return fail(done, grpc.status.INVALID_ARGUMENT, bad);
      calls.crcVerified = (calls.crcVerified ?? 0) + 1;
      const plaintext = open(key.secret, ciphertext, aad);
      if (!plaintext) return fail(done, grpc.status.INVALID_ARGUMENT, 'Decryption failed');
      const crc = (crc32c(plaintext) ^ (state.fault === 'plaintext-crc' ? 1 : 0)) >>> 0;
      done(null, {
        plaintext,
        plaintextCrc32c: int64(crc),
        usedPrimary: true,
        protectionLevel: 'SOFTWARE',
      });
    },
  };

  const server = new grpc.Server();
  server.addService(loadService(), handlers as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      'localhost:0',
      grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );

  return {
    endpoint: `localhost:${port}`,
    credentialsFile: account.file,
    projectId,
    get fault() {
      return state.fault;
    },
    set fault(f: Fault) {
      state.fault = f;
    },
    calls,
    addKey(keyRing, id, opts = {}) {
      const name = `projects/${projectId}/locations/global/keyRings/${keyRing}/cryptoKeys/${id}`;
      keys.set(name, {
        secret: randomBytes(32),
        purpose: opts.purpose ?? 'ENCRYPT_DECRYPT',
        state: opts.state ?? 'ENABLED',
      });
      return name;
    },
    key: (name) => keys.get(name),
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

function loadService(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs: [KMS_PROTOS, API_PROTOS],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    google: {
      cloud: { kms: { v1: { KeyManagementService: { service: grpc.ServiceDefinition } } } };
    };
  };
  return pkg.google.cloud.kms.v1.KeyManagementService.service;
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  return Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]);
}

function open(key: Buffer, blob: Buffer, aad: Buffer): Buffer | undefined {
  if (blob.length < 28) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12)).setAAD(aad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}

interface Account {
  readonly email: string;
  readonly file: string;
  readonly publicKey: KeyObject;
}

/** A service-account key file like the ones Cloud IAM issues (type service_account, RSA key). */
function serviceAccount(projectId: string, dir: string): Account {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `zoo-kms@${projectId}.iam.gserviceaccount.com`;
  const file = path.join(dir, `service-account-${randomBytes(4).toString('hex')}.json`);
  const json = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  writeFileSync(file, JSON.stringify(json), { mode: 0o600 });
  return {
    email,
    file,
    publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })),
  };
}

/** A self-signed service-account JWT (RS256) from `email`, not expired. */
function verifyJwt(token: string, key: KeyObject, email: string): boolean {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return false;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as {
      iss?: string;
      sub?: string;
      exp?: number;
    };
    if (header.alg !== 'RS256' || claims.iss !== email || claims.sub !== email) return false;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return false;
    return verifySignature('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  } catch {
    return false;
  }
}
