/** What only the software provider promises: its key file, and its refusal in production. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SoftwareProvider } from '../../src/providers/software.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-software-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

describe('SoftwareProvider', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });

  it('is refused with NODE_ENV=production unless allowInProduction is set', () => {
    process.env.NODE_ENV = 'production';
    expect(() => new SoftwareProvider({ name: 'dev', keyFile: file('p.key') })).toThrow(
      'software provider dev: refused with NODE_ENV=production',
    );
    expect(
      () => new SoftwareProvider({ name: 'dev', keyFile: file('p.key'), allowInProduction: true }),
    ).not.toThrow();
  });

  it('creates a 32-byte 0600 key file on first open and uses the same key after a restart', async () => {
    const keyFile = file('nested/dir/root.key');
    const first = new SoftwareProvider({ name: 'dev', keyFile });
    await first.open();
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile)).toHaveLength(32);
    const secret = randomBytes(32);
    const wrapped = await first.wrap('hmac-sha256', secret);
    const second = new SoftwareProvider({ name: 'dev', keyFile });
    await second.open();
    expect(await second.unwrap('hmac-sha256', wrapped)).toEqual(new Uint8Array(secret));
  });

  it('refuses a key file of the wrong size or readable by others', async () => {
    writeFileSync(file('short.key'), randomBytes(16), { mode: 0o600 });
    await expect(
      new SoftwareProvider({ name: 'dev', keyFile: file('short.key') }).open(),
    ).rejects.toThrow(/holds 16 bytes, an AES-256 root key is 32/);
    writeFileSync(file('open.key'), randomBytes(32));
    chmodSync(file('open.key'), 0o644);
    await expect(
      new SoftwareProvider({ name: 'dev', keyFile: file('open.key') }).open(),
    ).rejects.toThrow(/is readable by others; chmod 600 it/);
  });
});
