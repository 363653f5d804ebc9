/**
 * Helpers for the replicate tests: fetch and decrypt an identity the way a sidecar does, run the
 * zkms CLI as a real process, and make a real SQLite database file to back up.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  Decrypter,
  Encrypter,
  armor,
  generateX25519Identity,
  identityToRecipient,
} from 'age-encryption';
import type { Reply, TestKms } from './kms.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** POST .../identity with a fresh ephemeral recipient; `identity` is the decrypted plaintext on 200. */
export async function fetchIdentity(
  t: TestKms,
  target: string,
  body: Record<string, unknown> = {},
  token?: string,
): Promise<Reply & { identity?: string }> {
  const ephemeral = await generateX25519Identity();
  const res = await t.call('POST', `/v1/replicate/${target}/identity`, {
    ...(token ? { token } : {}),
    body: { wrapTo: await identityToRecipient(ephemeral), ...body },
  });
  if (res.status !== 200) return res;
  const d = new Decrypter();
  d.addIdentity(ephemeral);
  return { ...res, identity: await d.decrypt(armor.decode(res.body.identity as string), 'text') };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node --import tsx src/cli/main.ts ...args` under `sh` with the given umask (async: the server may be in this process). */
export function runCli(args: string[], umask = '022'): Promise<CliResult> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn(
    'sh',
    ['-c', `umask ${umask} && exec "${process.execPath}" --import tsx src/cli/main.ts ${quoted}`],
    {
      cwd: ROOT,
      env: { ...process.env, ZKMS_URL: '', ZKMS_TOKEN: '', ZKMS_TOKEN_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs a command and collects its output (for Debian's `age`). */
export function runCommand(cmd: string, args: string[]): Promise<CliResult & { out: Buffer }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) =>
      resolve({ code, stdout: '', stderr, out: Buffer.concat(chunks) }),
    ),
  );
}

/** A real SQLite database file (WAL checkpointed) with `rows` rows; returns its bytes. */
export function makeSqliteFile(file: string, rows: number): Uint8Array {
  const db = new Database(file);
  db.exec(
    'create table users (id integer primary key, name text not null, balance integer not null)',
  );
  const insert = db.prepare('insert into users (name, balance) values (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`user-${i}`, i * 7);
  })();
  db.close();
  return readFileSync(file);
}

/** Rows of the `users` table of a database file. */
export function readUsers(file: string): { id: number; name: string; balance: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('select id, name, balance from users order by id').all() as {
      id: number;
      name: string;
      balance: number;
    }[];
  } finally {
    db.close();
  }
}

export async function encryptTo(recipient: string, bytes: Uint8Array): Promise<Uint8Array> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e.encrypt(bytes);
}

export async function decryptWith(identity: string, file: Uint8Array): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d.decrypt(file);
}
