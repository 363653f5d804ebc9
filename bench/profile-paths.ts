/**
 * The request paths bench/profile.ts measures, each with its bare baseline, provisioned through
 * the admin API by `inject`. A lane is one of the 64 concurrent senders; a validator lane owns its
 * keys, so their heights only rise.
 */
import { randomBytes } from 'node:crypto';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import type { Kms } from '../src/app.js';
import { BARE } from './bare-routes.js';

export interface Request {
  readonly url: string;
  readonly body: string;
  readonly token?: string;
}

export interface ProfiledPath {
  next(lane: number): Request;
}

type Make = (kms: Kms, admin: string) => Promise<{ path: ProfiledPath; baseline: ProfiledPath }>;

async function call(
  kms: Kms,
  admin: string,
  url: string,
  body: unknown,
): Promise<{ token?: string }> {
  const res = await kms.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${admin}` },
    payload: body as object,
  });
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as { token?: string };
}

async function tokenFor(kms: Kms, admin: string, name: string, role: string, scopes: string[]) {
  await call(kms, admin, '/v1/principals', { name, role, scopes });
  return (await call(kms, admin, `/v1/principals/${name}/tokens`, {})).token!;
}

async function keys(kms: Kms, admin: string, prefix: string, spec: object): Promise<string[]> {
  const names = Array.from({ length: 256 }, (_, i) => `${prefix}-${i}`);
  for (const name of names) await call(kms, admin, '/v1/keys', { name, ...spec });
  return names;
}

function blocks(names: string[], url: (key: string) => string, token?: string): ProfiledPath {
  const heights = new Map<string, number>();
  const turns = new Map<number, number>();
  return {
    next(lane) {
      const turn = (turns.get(lane) ?? 0) + 1;
      turns.set(lane, turn);
      const key = names[lane + 64 * (turn % 4)]!;
      const height = (heights.get(key) ?? 0) + 1;
      heights.set(key, height);
      const body = JSON.stringify({
        chainId: '122',
        height: String(height),
        round: '0',
        blockHash: '0x' + randomBytes(32).toString('hex'),
      });
      return { url: url(key), body, ...(token ? { token } : {}) };
    },
  };
}

function bridgeMessages(names: string[], url: (key: string) => string, token?: string) {
  let nonce = 0;
  const payload = '0x' + randomBytes(64).toString('hex');
  return {
    next: (): Request => {
      nonce += 1;
      const body = JSON.stringify({
        sourceChainId: '122',
        targetChainId: '120',
        nonce: String(nonce),
        timestamp: String(Math.floor(Date.now() / 1000)),
        payload,
      });
      return { url: url(names[nonce % names.length]!), body, ...(token ? { token } : {}) };
    },
  };
}

function cycling(url: string, bodies: string[], token?: string): ProfiledPath {
  let n = 0;
  return { next: () => ({ url, body: bodies[n++ % bodies.length]!, ...(token ? { token } : {}) }) };
}

const validator: Make = async (kms, admin) => {
  const names = await keys(kms, admin, 'p-val', { algorithm: 'bls12-381', purpose: 'validator' });
  const token = await tokenFor(kms, admin, 'p-validator', 'validator', ['p-val-*']);
  return {
    path: blocks(names, (k) => `/v1/validators/${k}/block-signatures`, token),
    baseline: blocks(names, () => BARE.blockSign),
  };
};

const bridge: Make = async (kms, admin) => {
  const names = await keys(kms, admin, 'p-bridge', { algorithm: 'bls12-381', purpose: 'bridge' });
  const token = await tokenFor(kms, admin, 'p-bridge', 'bridge', ['p-bridge-*']);
  return {
    path: bridgeMessages(names, (k) => `/v1/bridge/${k}/signatures`, token),
    baseline: bridgeMessages(names, () => BARE.bridgeSign),
  };
};

let experienceToken: Promise<string> | undefined;
const plaintext = randomBytes(1024).toString('base64');
const userId = (i: number) => `did:lux:122:profile-user-${i}`;

const experienceEncrypt: Make = async (kms, admin) => {
  const token = await (experienceToken ??= tokenFor(kms, admin, 'p-exp', 'experience', []));
  const bodies = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({ userId: userId(i), plaintext }),
  );
  return {
    path: cycling('/v1/experience/encrypt', bodies, token),
    baseline: cycling(BARE.echo, bodies),
  };
};

const experienceDecrypt: Make = async (kms, admin) => {
  const token = await (experienceToken ??= tokenFor(kms, admin, 'p-exp', 'experience', []));
  const bodies: string[] = [];
  for (let i = 0; i < 256; i++) {
    const body = { userId: userId(i), plaintext };
    const res = await kms.app.inject({
      method: 'POST',
      url: '/v1/experience/encrypt',
      headers: { authorization: `Bearer ${token}` },
      payload: body,
    });
    const { ciphertext } = JSON.parse(res.body) as { ciphertext: string };
    bodies.push(JSON.stringify({ userId: userId(i), ciphertext }));
  }
  return {
    path: cycling('/v1/experience/decrypt', bodies, token),
    baseline: cycling(BARE.echo, bodies),
  };
};

const replicate: Make = async (kms, admin) => {
  const token = await tokenFor(kms, admin, 'p-replicate', 'replicate', ['zoo/profile/*']);
  const recipients: string[] = [];
  for (let i = 0; i < 32; i++)
    recipients.push(await identityToRecipient(await generateHybridIdentity()));
  const bodies = recipients.map((wrapTo) => JSON.stringify({ wrapTo }));
  let n = 0;
  return {
    path: {
      next: () => {
        n += 1;
        const url = `/v1/replicate/zoo/profile/svc-${n % 32}/identity`;
        return { url, body: bodies[n % bodies.length]!, token };
      },
    },
    baseline: cycling(BARE.echo, bodies),
  };
};

export const PATHS: Record<string, Make> = {
  validator,
  bridge,
  'experience-encrypt': experienceEncrypt,
  'experience-decrypt': experienceDecrypt,
  replicate,
};
