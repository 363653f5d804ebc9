/**
 * The zkms CLI as a real process (`node --import tsx src/cli/main.ts`) against a KMS listening on
 * 127.0.0.1 (issue 9): first-run setup, principal, token, key create/import/rotate/delete, a
 * signature through the API checked with @noble, audit verify and tail, slashing export/import,
 * providers; `--json` output parses; exit codes: 1 refused, 2 usage, 3 unauthenticated or
 * forbidden, 5 a broken audit chain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms, type TestKms } from '../support/kms.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let t: TestKms;
let url: string;
let dir: string;
/** The operator token file `init` writes; every later command runs with it. */
let opsTokenFile: string;

type Auth = { token: string } | { tokenFile: string } | 'none';

/** Runs zkms; credentials default to the operator's token file. */
function zkms(args: string[], auth: Auth = { tokenFile: opsTokenFile }): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ZKMS_URL: url };
  delete env.ZKMS_TOKEN;
  delete env.ZKMS_TOKEN_FILE;
  if (auth !== 'none' && 'token' in auth) env.ZKMS_TOKEN = auth.token;
  if (auth !== 'none' && 'tokenFile' in auth) env.ZKMS_TOKEN_FILE = auth.tokenFile;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command that must succeed with --json, and parses its output. */
async function json<T = any>(args: string[], auth?: Auth) {
  const r = await zkms([...args, '--json'], auth);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  t = await startKms();
  url = await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'zkms-cli-'));
  opsTokenFile = path.join(dir, 'ops.token');
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('zkms', { timeout: 240_000 }, () => {
  it('init: says where the bootstrap token is, then makes the operator and revokes bootstrap', async () => {
    const bare = await zkms(['init'], 'none');
    expect(bare.code).toBe(3);
    expect(bare.stderr).toContain('admin.token');

    const adminFile = path.join(t.dataDir, 'admin.token');
    const out = await json(
      ['init', '--operator', 'ops', '--out', opsTokenFile, '--revoke-bootstrap'],
      { tokenFile: adminFile },
    );
    expect(out.ready).toBe('ready');
    expect(out.providers[0]).toMatchObject({ name: 'softhsm2', healthy: true });
    expect(out.token).toMatchObject({ file: opsTokenFile });
    expect(out.token.token).toBeUndefined();
    expect(out.revoked).toBe(1);
    expect(statSync(opsTokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(opsTokenFile, 'utf8')).toMatch(/^zkms_[A-Za-z0-9_-]+\n$/);

    // The bootstrap token no longer works; the operator's does.
    expect((await zkms(['key', 'list'], { tokenFile: adminFile })).code).toBe(3);
    expect((await json(['key', 'list'])).keys).toEqual(expect.any(Array));
  });

  it('drives a session: principal, token, key, rotate, sign through the API, audit verify', async () => {
    const p = await json([
      'principal',
      'create',
      'pay-svc',
      '--role',
      'signing',
      '--scopes',
      'pay-*',
    ]);
    expect(p).toEqual({
      name: 'pay-svc',
      role: 'signing',
      scopes: ['pay-*'],
      certificateFingerprints: [],
    });
    const tok = await json(['token', 'create', 'pay-svc', '--ttl', '3600']);
    expect(tok.tokenId).toMatch(/^tok_[0-9a-f]{24}$/);

    const created = await json([
      'key',
      'create',
      'pay-signer',
      '--algorithm',
      'ed25519',
      '--purpose',
      'signing',
    ]);
    expect(created.versions).toHaveLength(1);
    const rotated = await json(['key', 'rotate', 'pay-signer']);
    expect(rotated.versions.map((v: any) => [v.version, v.state])).toEqual([
      [1, 'decrypt-only'],
      [2, 'active'],
    ]);

    const message = Buffer.from('pay 10 ZOO to alice');
    const res = await fetch(`${url}/v1/keys/pay-signer/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: message.toString('base64') }),
    });
    expect(res.status).toBe(200);
    const signed = (await res.json()) as { signature: string; keyVersion: number };
    expect(signed.keyVersion).toBe(2);
    const shown = await json(['key', 'show', 'pay-signer']);
    const pk = Buffer.from(shown.publicKey.slice(2), 'hex');
    expect(ed25519.verify(Buffer.from(signed.signature.slice(2), 'hex'), message, pk)).toBe(true);

    const verify = await json(['audit', 'verify']);
    expect(verify.ok).toBe(true);
    expect(verify.chains[0].events).toBeGreaterThan(5);
    const human = await zkms(['audit', 'verify']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('ok: every chain recomputed');

    const tail = await json(['audit', 'tail', '--lines', '3']);
    expect(tail.events).toHaveLength(3);
    expect(tail.events.at(-1)).toMatchObject({
      action: 'key.sign',
      key: 'pay-signer',
      outcome: 'success',
    });
    const list = await zkms(['key', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^name\s+algorithm\s+purpose/);
    expect(list.stdout).toContain('pay-signer');

    const revoked = await zkms(['token', 'revoke', tok.tokenId]);
    expect(revoked.code).toBe(0);
    const after = await fetch(`${url}/v1/keys/pay-signer/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'AA==' }),
    });
    expect(after.status).toBe(401);
  });

  it('imports from a file, destroys a version, lists providers, exports and imports slashing protection', async () => {
    // RFC 8032 sec. 7.1 test 1: this seed's public key is d75a9801...
    const seedFile = path.join(dir, 'seed.hex');
    writeFileSync(seedFile, '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n', {
      mode: 0o600,
    });
    const imported = await json([
      'key',
      'import',
      'rfc8032',
      '--algorithm',
      'ed25519',
      '--purpose',
      'signing',
      '--private-key-file',
      seedFile,
    ]);
    expect(imported.publicKey).toBe(
      '0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );

    const destroyed = await json(['key', 'delete', 'pay-signer', '--version', '1', '--yes']);
    expect(destroyed.versions[0]).toMatchObject({ version: 1, state: 'destroyed' });

    const providers = await json(['providers']);
    expect(providers).toEqual([
      expect.objectContaining({ name: 'softhsm2', kind: 'pkcs11', healthy: true }),
    ]);

    const file = path.join(dir, 'slashing-122.json');
    const exported = await json(['slashing', 'export', '--chain-id', '122', '--out', file]);
    expect(exported).toMatchObject({ file, chainId: '122' });
    const interchange = JSON.parse(readFileSync(file, 'utf8'));
    expect(interchange.metadata).toEqual({
      interchange_format_version: 'zoo-kms/1',
      chainId: '122',
    });
    const back = await zkms(['slashing', 'import', '--file', file, '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ chainId: '122' });
  });

  it('exits 1 when refused, 2 on usage errors, 3 when forbidden', async () => {
    const dup = await zkms([
      'key',
      'create',
      'rfc8032',
      '--algorithm',
      'ed25519',
      '--purpose',
      'signing',
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ALREADY_EXISTS');
    expect((await zkms(['key', 'show', 'no-such-key'])).code).toBe(1);

    const usage: string[][] = [
      ['no-such-command'],
      ['key', 'create'],
      ['key', 'create', 'k', '--purpose', 'signing'],
      ['key', 'delete', 'rfc8032'],
      ['token', 'create', 'ops', '--ttl', 'soon'],
      ['slashing', 'export', '--chain-id', 'zoo'],
    ];
    for (const args of usage) {
      const r = await zkms(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    // Nothing was destroyed by the refused delete.
    expect((await json(['key', 'show', 'rfc8032'])).versions[0].state).toBe('active');

    const signer = await json(['token', 'create', 'pay-svc']);
    const forbidden = await zkms(['principal', 'list'], { token: signer.token });
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('FORBIDDEN');
  });

  it('exits 2 with nothing sent for bad arguments, and issues no token it cannot write', async () => {
    const tokensOf = async (p: string) =>
      (await json<{ tokens: unknown[] }>(['token', 'list', p])).tokens.length;
    const before = await tokensOf('ops');
    const taken = path.join(dir, 'taken.token');
    writeFileSync(taken, 'already here\n');
    const cases: [string[], Auth | undefined, RegExp][] = [
      [['token', 'create', 'ops', '--out', taken], undefined, /cannot create/],
      [['providers'], { tokenFile: path.join(dir, 'missing.token') }, /token file/],
      [['providers', '--token-file'], undefined, /--token-file needs a value/],
      [['providers', '--url'], undefined, /--url needs a value/],
      [['providers', '--url', 'ftp://x'], undefined, /--url must be/],
      [['constructor'], undefined, /usage/],
      [
        ['init', '--operator', 'late-op', '--ttl', '90d', '--out', path.join(dir, 'late.token')],
        undefined,
        /--ttl/,
      ],
    ];
    for (const [args, auth, message] of cases) {
      const r = await zkms(args, auth);
      expect([args.join(' '), r.code], r.stderr).toEqual([args.join(' '), 2]);
      expect(r.stderr).toMatch(message);
    }
    expect(readFileSync(taken, 'utf8')).toBe('already here\n');
    expect(await tokensOf('ops')).toBe(before);
    expect((await t.call('GET', '/v1/principals/late-op')).status).toBe(404);
    expect(() => statSync(path.join(dir, 'late.token'))).toThrow();
  });

  it('audit tail --follow prints new events as they happen', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'audit',
        'tail',
        '--lines',
        '1',
        '--follow',
        '--interval',
        '1',
        '--json',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ZKMS_URL: url, ZKMS_TOKEN_FILE: opsTokenFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const seen = async (re: RegExp) => {
      for (const end = Date.now() + 60_000; !re.test(out);) {
        if (Date.now() > end) throw new Error(`no ${re} in: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await seen(/\n/);
      const lines = () =>
        out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
      expect(lines()).toHaveLength(1);
      await json(['key', 'rotate', 'rfc8032']);
      await seen(/"action":"key.rotate"/);
      expect(lines().at(-1)).toMatchObject({ action: 'key.rotate', key: 'rfc8032' });
      expect(new Set(lines().map((e) => `${e.instance}/${e.seq}`)).size, out).toBe(lines().length);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('audit verify exits 5 when an event was altered', async () => {
    await t.kms.services.deps.audit.checkpoint();
    await sql`update audit_events set action = 'key.nothing' where seq = 2`.execute(
      t.kms.services.deps.db,
    );
    const r = await zkms(['audit', 'verify']);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/BROKEN at .+\/2/);
    const j = await zkms(['audit', 'verify', '--json']);
    expect(j.code).toBe(5);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, brokenAt: { seq: 2 } });
  });
});
