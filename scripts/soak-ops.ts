/**
 * The operations of the soak (scripts/soak.ts): what a day of Zoo traffic looks like, weighted.
 * Each returns 'ok' for a 2xx answer, or `{status} {code}` otherwise.
 */
import { randomBytes } from 'node:crypto';

export interface Client {
  readonly url: string;
  readonly admin: string;
  readonly tokens: Record<
    'signing' | 'encryption' | 'validator' | 'bridge' | 'experience' | 'replicate',
    string
  >;
  readonly recipient: string;
  /** Per worker: its validator key's next height, and a nonce counter. */
  readonly heights: number[];
  nonce: number;
}

interface Op {
  readonly name: string;
  readonly weight: number;
  run(c: Client, worker: number): Promise<string>;
}

/** The fields of answers the soak reads. */
interface Answer {
  readonly ciphertext?: string;
  readonly name?: string;
  readonly token?: string;
  readonly error?: { readonly code?: string };
}
interface Reply {
  readonly status: number;
  readonly body: Answer | undefined;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex');
const USERS = 5000;

async function call(
  c: Client,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(c.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer) : undefined };
}

const outcome = (r: Reply) =>
  r.status >= 200 && r.status < 300 ? 'ok' : `${r.status} ${r.body?.error?.code ?? ''}`;

/** Two calls where the second needs the first: the first failure is the outcome. */
async function chain(first: Promise<Reply>, next: (body: Answer) => Promise<Reply>) {
  const a = await first;
  return outcome(a) === 'ok' ? outcome(await next(a.body ?? {})) : outcome(a);
}

const user = () => `did:lux:122:soak-${Math.floor(Math.random() * USERS)}`;

export const OPS: readonly Op[] = [
  {
    name: 'sign ed25519',
    weight: 12,
    run: (c) =>
      call(c, 'POST', '/v1/keys/s-ed/sign', c.tokens.signing, {
        message: b64(randomBytes(64)),
      }).then(outcome),
  },
  {
    name: 'sign p-256 (in the token)',
    weight: 12,
    run: (c) =>
      call(c, 'POST', '/v1/keys/s-p256/sign', c.tokens.signing, {
        message: b64(randomBytes(64)),
      }).then(outcome),
  },
  {
    name: 'encrypt + decrypt aes-256-gcm',
    weight: 12,
    run: (c) =>
      chain(
        call(c, 'POST', '/v1/keys/s-aes/encrypt', c.tokens.encryption, {
          plaintext: b64(randomBytes(256)),
          context: { t: 'soak' },
        }),
        (b) =>
          call(c, 'POST', '/v1/keys/s-aes/decrypt', c.tokens.encryption, {
            ciphertext: b.ciphertext,
            context: { t: 'soak' },
          }),
      ),
  },
  {
    name: 'experience encrypt + decrypt',
    weight: 14,
    run: (c) => {
      const userId = user();
      return chain(
        call(c, 'POST', '/v1/experience/encrypt', c.tokens.experience, {
          userId,
          plaintext: b64(randomBytes(512)),
        }),
        (b) =>
          call(c, 'POST', '/v1/experience/decrypt', c.tokens.experience, {
            userId,
            ciphertext: b.ciphertext,
          }),
      );
    },
  },
  {
    name: 'experience delete user',
    weight: 1,
    run: (c) =>
      call(
        c,
        'DELETE',
        `/v1/experience/users/${encodeURIComponent(user())}`,
        c.tokens.experience,
      ).then(outcome),
  },
  {
    name: 'validator block signature',
    weight: 12,
    run: (c, w) => {
      const height = c.heights[w]!++;
      const body = {
        chainId: '122',
        height: String(height),
        round: '0',
        blockHash: hex(randomBytes(32)),
      };
      return call(
        c,
        'POST',
        `/v1/validators/s-val-${w}/block-signatures`,
        c.tokens.validator,
        body,
      ).then(outcome);
    },
  },
  {
    name: 'bridge signature',
    weight: 5,
    run: (c) => {
      const body = {
        sourceChainId: '122',
        targetChainId: '120',
        nonce: String(c.nonce++),
        timestamp: String(Math.floor(Date.now() / 1000)),
        payload: hex(randomBytes(200)),
      };
      return call(c, 'POST', '/v1/bridge/s-br/signatures', c.tokens.bridge, body).then(outcome);
    },
  },
  {
    name: 'replicate identity',
    weight: 3,
    run: (c) =>
      call(c, 'POST', '/v1/replicate/zoo/prod/db/identity', c.tokens.replicate, {
        wrapTo: c.recipient,
        kind: 'x25519',
      }).then(outcome),
  },
  {
    name: 'derive (HKDF in the token)',
    weight: 6,
    run: (c) =>
      call(c, 'POST', '/v1/keys/s-der/derive', c.tokens.encryption, {
        info: `disk-${Math.floor(Math.random() * 100)}`,
      }).then(outcome),
  },
  {
    name: 'datakey',
    weight: 4,
    run: (c) => call(c, 'POST', '/v1/keys/s-aes/datakey', c.tokens.encryption, {}).then(outcome),
  },
  {
    name: 'read key',
    weight: 6,
    run: (c) => call(c, 'GET', '/v1/keys/s-ed', c.tokens.signing).then(outcome),
  },
  {
    name: 'audit events page',
    weight: 1,
    run: (c) => call(c, 'GET', '/v1/audit/events?limit=100', c.admin).then(outcome),
  },
  {
    name: 'create + rotate key',
    weight: 1,
    run: (c) =>
      chain(
        call(c, 'POST', '/v1/keys', c.admin, {
          name: `s-new-${randomBytes(6).toString('hex')}`,
          algorithm: 'ed25519',
          purpose: 'signing',
        }),
        (b) => call(c, 'POST', `/v1/keys/${b.name}/rotate`, c.admin),
      ),
  },
];

async function must(c: Client, method: string, path: string, body?: unknown): Promise<Answer> {
  const r = await call(c, method, path, c.admin, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body ?? {};
}

/** Keys, principals and tokens the operations use. */
export async function setUp(
  url: string,
  admin: string,
  workers: number,
  recipient: string,
): Promise<Client> {
  const c: Client = {
    url,
    admin,
    tokens: {} as Client['tokens'],
    recipient,
    heights: Array.from({ length: workers }, () => 1),
    nonce: 1,
  };
  const keys: [string, string, string][] = [
    ['s-ed', 'ed25519', 'signing'],
    ['s-p256', 'p-256', 'signing'],
    ['s-aes', 'aes-256-gcm', 'encryption'],
    ['s-der', 'hmac-sha256', 'derivation'],
    ['s-br', 'bls12-381', 'bridge'],
    ...Array.from({ length: workers }, (_, w): [string, string, string] => [
      `s-val-${w}`,
      'bls12-381',
      'validator',
    ]),
  ];
  for (const [name, algorithm, purpose] of keys)
    await must(c, 'POST', '/v1/keys', { name, algorithm, purpose });
  const roles = {
    signing: ['s-*'],
    encryption: ['s-*'],
    validator: ['s-val-*'],
    bridge: ['s-br'],
    experience: [],
    replicate: ['zoo/prod/*'],
  };
  for (const [role, scopes] of Object.entries(roles)) {
    await must(c, 'POST', '/v1/principals', { name: `soak-${role}`, role, scopes });
    c.tokens[role as keyof Client['tokens']] = (
      await must(c, 'POST', `/v1/principals/soak-${role}/tokens`, {})
    ).token!;
  }
  return c;
}
