/**
 * Issue 11, secrets: a full session against a real KMS process logging at `trace`, then a search
 * (support/secret-scan.ts) of its logs, every response and error message, and the store (the SQLite
 * files, or a pg_dump) for any secret the session knows: imported private keys and seeds of every
 * algorithm, the imported experience and replicate masters, plaintexts, a data key, a derived key,
 * a replicate identity seed, every bearer token, and the SoftHSM2 user PIN. Each secret may appear
 * only in the one response that returns it by design (a token when issued, a plaintext on decrypt).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Decrypter, armor, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIdentity } from '../../src/crypto/age-identity.js';
import { adminTokenOf, spawnKms, type KmsProcess } from '../support/process.js';
import { createPgDatabase, testStore } from '../support/store.js';
import { fetchJson } from '../support/fetch-json.js';
import { testSoftHsm } from '../support/softhsm.js';
import { scan, type Secret } from '../support/secret-scan.js';

let kms: KmsProcess;
let databaseUrl: string | undefined;
let drop: (() => Promise<void>) | undefined;
const secrets: Secret[] = [];
const responses = new Map<string, string>();
let aesCiphertext = '';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex');

beforeAll(async () => {
  if (testStore() === 'postgres') ({ url: databaseUrl, drop } = await createPgDatabase());
  kms = await spawnKms({
    tokenLabel: 'secrets',
    env: { KMS_LOG_LEVEL: 'trace' },
    ...(databaseUrl ? { databaseUrl } : {}),
  });
}, 120_000);

afterAll(async () => {
  await kms?.kill('SIGKILL');
  await drop?.();
  if (kms) rmSync(kms.dataDir, { recursive: true, force: true });
});

/** One call; its answer is kept under `label` for the scan. */
async function call(
  label: string,
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
) {
  const r = await fetchJson(kms.url, method, url, token, body);
  responses.set(label, JSON.stringify(r.body ?? ''));
  return r;
}

function secret(name: string, bytes: Uint8Array, extra: Partial<Secret> = {}): Uint8Array {
  secrets.push({ name, bytes, ...extra });
  return bytes;
}

async function principal(
  admin: string,
  name: string,
  role: string,
  scopes: string[],
): Promise<string> {
  expect(
    (await call(`principal ${name}`, 'POST', '/v1/principals', admin, { name, role, scopes }))
      .status,
  ).toBe(201);
  const label = `token ${name}`;
  const token: string = (await call(label, 'POST', `/v1/principals/${name}/tokens`, admin, {})).body
    .token;
  secret(label, Buffer.from(token.slice(5), 'base64url'), {
    literals: [token],
    allowedIn: [label],
  });
  return token;
}

const IMPORTS = [
  ['k1', 'secp256k1', 'signing'],
  ['p256', 'p-256', 'signing'],
  ['ed', 'ed25519', 'signing'],
  ['mldsa', 'ml-dsa-65', 'signing'],
  ['mac', 'hmac-sha256', 'signing'],
  ['aes', 'aes-256-gcm', 'encryption'],
  ['der', 'hmac-sha256', 'derivation'],
  ['val', 'bls12-381', 'validator'],
  ['br', 'bls12-381', 'bridge'],
  ['experience-master', 'hmac-sha256', 'experience-master'],
  ['replicate-master.zoo.prod', 'hmac-sha256', 'replicate-master'],
] as const;

/** A session touching every capability, with secrets of our own choosing where the API allows. */
async function session(): Promise<void> {
  const admin = adminTokenOf(kms.dataDir);
  secret('admin token', Buffer.from(admin.slice(5), 'base64url'), { literals: [admin] });
  secret(
    'SoftHSM2 user PIN',
    Buffer.from(readFileSync(testSoftHsm().token('secrets').pinFile, 'utf8').trim()),
    {
      literals: [readFileSync(testSoftHsm().token('secrets').pinFile, 'utf8').trim()],
    },
  );
  for (const [name, algorithm, purpose] of IMPORTS) {
    // BLS scalars must be below the group order: a leading zero byte keeps them there.
    const key = secret(
      `private key ${name}`,
      Buffer.concat([Buffer.from([0x01]), randomBytes(31)]),
    );
    const r = await call(`import ${name}`, 'POST', '/v1/keys/import', admin, {
      name,
      algorithm,
      purpose,
      privateKey: hex(key),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const tokens = {
    signing: await principal(admin, 'signer', 'signing', ['*']),
    encryption: await principal(admin, 'encrypter', 'encryption', ['aes', 'der']),
    validator: await principal(admin, 'validator', 'validator', ['val']),
    bridge: await principal(admin, 'bridger', 'bridge', ['br']),
    experience: await principal(admin, 'experience', 'experience', []),
    replicate: await principal(admin, 'sidecar', 'replicate', ['zoo/prod/*']),
  };
  await signing(tokens.signing);
  await encryption(tokens.encryption);
  await chains(tokens.validator, tokens.bridge);
  await experience(tokens.experience);
  await replicate(admin, tokens.replicate);
  await refusals(admin, tokens.signing);
  await call('audit', 'GET', '/v1/audit/events?limit=500', admin);
  await call('keys', 'GET', '/v1/keys', admin);
  await call('metrics', 'GET', '/metrics', null);
}

async function signing(token: string): Promise<void> {
  const message = secret('signed message', randomBytes(32));
  for (const k of ['k1', 'p256', 'ed', 'mldsa', 'mac'])
    expect(
      (await call(`sign ${k}`, 'POST', `/v1/keys/${k}/sign`, token, { message: b64(message) }))
        .status,
    ).toBe(200);
}

async function encryption(token: string): Promise<void> {
  const plaintext = secret('plaintext', randomBytes(48), { allowedIn: ['decrypt'] });
  const sealed = await call('encrypt', 'POST', '/v1/keys/aes/encrypt', token, {
    plaintext: b64(plaintext),
    context: { app: 'x' },
  });
  aesCiphertext = sealed.body.ciphertext;
  expect(
    (
      await call('decrypt', 'POST', '/v1/keys/aes/decrypt', token, {
        ciphertext: sealed.body.ciphertext,
        context: { app: 'x' },
      })
    ).status,
  ).toBe(200);
  const dk = await call('datakey', 'POST', '/v1/keys/aes/datakey', token, {});
  secret('data key', Buffer.from(dk.body.plaintext, 'base64'), { allowedIn: ['datakey'] });
  const derived = await call('derive', 'POST', '/v1/keys/der/derive', token, { info: 'disk' });
  secret('derived key', Buffer.from(derived.body.key, 'base64'), { allowedIn: ['derive'] });
  expect(
    (
      await call('derive wrapped', 'POST', '/v1/keys/der/derive', token, {
        info: 'disk2',
        wrapTo: await identityToRecipient(await generateX25519Identity()),
      })
    ).status,
  ).toBe(200);
}

async function chains(validator: string, bridge: string): Promise<void> {
  const block = { chainId: '122', height: '1', round: '0', blockHash: hex(randomBytes(32)) };
  expect(
    (await call('block', 'POST', '/v1/validators/val/block-signatures', validator, block)).status,
  ).toBe(200);
  expect(
    (
      await call('pop', 'POST', '/v1/validators/val/proof-of-possession', validator, {
        chainId: '122',
      })
    ).status,
  ).toBe(200);
  const message = {
    sourceChainId: '122',
    targetChainId: '120',
    nonce: '1',
    timestamp: String(Math.floor(Date.now() / 1000)),
    payload: hex(randomBytes(40)),
  };
  expect((await call('bridge', 'POST', '/v1/bridge/br/signatures', bridge, message)).status).toBe(
    200,
  );
}

async function experience(token: string): Promise<void> {
  const plaintext = secret('experience plaintext', randomBytes(40), {
    allowedIn: ['experience decrypt'],
  });
  const userId = 'did:lux:122:secrets';
  const sealed = await call('experience encrypt', 'POST', '/v1/experience/encrypt', token, {
    userId,
    plaintext: b64(plaintext),
  });
  expect(sealed.status).toBe(200);
  expect(
    (
      await call('experience decrypt', 'POST', '/v1/experience/decrypt', token, {
        userId,
        ciphertext: sealed.body.ciphertext,
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await call(
        'experience delete',
        'DELETE',
        `/v1/experience/users/${encodeURIComponent(userId)}`,
        token,
      )
    ).status,
  ).toBe(200);
}

async function replicate(admin: string, token: string): Promise<void> {
  expect(
    (await call('recipients', 'GET', '/v1/replicate/zoo/prod/db/recipients', token)).status,
  ).toBe(200);
  const ephemeral = await generateX25519Identity();
  const r = await call('identity', 'POST', '/v1/replicate/zoo/prod/db/identity', token, {
    wrapTo: await identityToRecipient(ephemeral),
  });
  expect(r.status).toBe(200);
  const d = new Decrypter();
  d.addIdentity(ephemeral);
  const identity = await d.decrypt(armor.decode(r.body.identity), 'text');
  secret('replicate identity seed', decodeIdentity(identity).seed, {
    literals: [identity, identity.toLowerCase()],
  });
  expect(
    (await call('replicate rotate', 'POST', '/v1/replicate/zoo/prod/rotate', admin)).status,
  ).toBe(200);
}

/** Refusals whose requests carry secrets: their messages must not echo them. */
async function refusals(admin: string, signer: string): Promise<void> {
  const key = secret('refused private key', randomBytes(32));
  await call('import refused algorithm', 'POST', '/v1/keys/import', admin, {
    name: 'x',
    algorithm: 'nope',
    purpose: 'signing',
    privateKey: hex(key),
  });
  await call('import refused length', 'POST', '/v1/keys/import', admin, {
    name: 'y',
    algorithm: 'ed25519',
    purpose: 'signing',
    privateKey: hex(key).slice(0, -2),
  });
  await call('bad token', 'GET', '/v1/keys', `${signer}x`);
  const tampered =
    aesCiphertext.slice(0, -6) +
    (aesCiphertext.slice(-6, -5) === 'A' ? 'B' : 'A') +
    aesCiphertext.slice(-5);
  await call('tampered', 'POST', '/v1/keys/aes/decrypt', admin, { ciphertext: tampered });
}

describe('no secret leaks', () => {
  it('logs at trace, answers, errors and the store hold no key, master, plaintext, PIN or token', async () => {
    await session();
    await new Promise((r) => setTimeout(r, 500));
    const logs = kms.output();
    // The process ran at trace (the loader reads KMS_LOG_LEVEL; nothing in src logs below info yet).
    const environ = readFileSync(`/proc/${kms.child.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('KMS_LOG_LEVEL=trace');
    expect(logs).toContain('"msg":"request completed"');
    const haystacks = new Map<string, string | Buffer>([['logs', logs], ...responses]);
    haystacks.set('store', storeBytes());
    const findings = scan(secrets, haystacks);
    expect(secrets.length).toBeGreaterThan(20);
    expect(findings).toEqual([]);
  }, 240_000);
});

function storeBytes(): Buffer {
  if (databaseUrl)
    return execFileSync('pg_dump', ['--data-only', databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
  const files = readdirSync(kms.dataDir).filter((f) => f.startsWith('kms.sqlite'));
  expect(files).toContain('kms.sqlite');
  return Buffer.concat(files.map((f) => readFileSync(path.join(kms.dataDir, f))));
}
