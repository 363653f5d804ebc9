/**
 * Issue 2: with no configuration at all, the service starts on its embedded defaults: SQLite and a
 * SoftHSM2 token made in ./data, /readyz on 127.0.0.1:8200, admin.token with mode 0600; a restart
 * reuses all of it. An unknown config key stops start-up with a message naming it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
const cwd = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-embedded-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function start(env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('KMS_') && k !== 'DATABASE_URL' && k !== 'SOFTHSM2_CONF',
    ),
  );
  const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/main.ts')], {
    cwd,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, output: () => out };
}

async function waitReady(output: () => string): Promise<Response> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch('http://127.0.0.1:8200/readyz');
      if (r.status === 200) return r;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready on 127.0.0.1:8200:\n${output()}`);
}

describe('embedded defaults', () => {
  it('starts on 127.0.0.1:8200 with SQLite and a SoftHSM2 token in ./data, and restarts on them', async () => {
    const first = start();
    try {
      const ready = await waitReady(first.output);
      expect(((await ready.json()) as { status: string }).status).toBe('ready');
      const token = path.join(cwd, 'data/admin.token');
      expect(statSync(token).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(cwd, 'data/softhsm/user.pin')).mode & 0o777).toBe(0o600);
      // The store and its WAL files: wrapped keys and the audit log, for the service alone.
      for (const f of ['kms.sqlite', 'kms.sqlite-wal', 'kms.sqlite-shm'])
        expect(statSync(path.join(cwd, 'data', f)).mode & 0o777, f).toBe(0o600);
      expect(first.output()).toContain('admin.token');
      expect(first.output()).not.toContain(readFileSync(token, 'utf8').trim());
      const created = await fetch('http://127.0.0.1:8200/v1/keys', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${readFileSync(token, 'utf8').trim()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'persisted', algorithm: 'p-256', purpose: 'signing' }),
      });
      expect(created.status).toBe(201);
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exit).toBe(0);
    }
    const tokenBefore = readFileSync(path.join(cwd, 'data/admin.token'), 'utf8');
    const second = start();
    try {
      await waitReady(second.output);
      const key = await fetch('http://127.0.0.1:8200/v1/keys/persisted', {
        headers: { authorization: `Bearer ${tokenBefore.trim()}` },
      });
      expect(key.status).toBe(200);
      expect(readFileSync(path.join(cwd, 'data/admin.token'), 'utf8')).toBe(tokenBefore);
    } finally {
      second.child.kill('SIGTERM');
      await second.exit;
    }
  });

  it('refuses to start on an unknown config key, naming it', async () => {
    const file = path.join(cwd, 'bad.yaml');
    writeFileSync(file, 'kms:\n  provider: softhsm2\n  sofhsm2: {}\n');
    const run = start({ KMS_CONFIG: file, KMS_PORT: '0' });
    expect(await run.exit).toBe(78);
    expect(run.output()).toContain('kms.sofhsm2');
  });
});
