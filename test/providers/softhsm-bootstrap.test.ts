/**
 * ensureSoftHsmToken: the embedded default token lives in our own directory, with 0600 PIN files,
 * and a second call (a restart) finds the token and reuses the PINs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Pkcs11Provider } from '../../src/providers/pkcs11/provider.js';
import { ensureSoftHsmToken } from '../../src/providers/pkcs11/softhsm-bootstrap.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-bootstrap-'));
const softhsm = path.join(dir, 'softhsm');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('ensureSoftHsmToken', () => {
  it('makes a token in its own directory with 0600 PIN files, and points SOFTHSM2_CONF at it', async () => {
    const token = ensureSoftHsmToken({ dir: softhsm, label: 'zoo-kms' });
    expect(token).toEqual({
      library: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'zoo-kms',
      pinFile: path.join(softhsm, 'user.pin'),
      confPath: path.join(softhsm, 'softhsm2.conf'),
    });
    expect(process.env.SOFTHSM2_CONF).toBe(token.confPath);
    expect(readFileSync(token.confPath, 'utf8')).toContain(
      `directories.tokendir = ${path.join(softhsm, 'tokens')}\n`,
    );
    expect(readdirSync(path.join(softhsm, 'tokens'))).toHaveLength(1);
    for (const f of ['user.pin', 'so.pin']) {
      expect(mode(path.join(softhsm, f))).toBe(0o600);
      expect(readFileSync(path.join(softhsm, f), 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    }
    const p = new Pkcs11Provider({
      name: 'embedded',
      library: token.library,
      tokenLabel: token.tokenLabel,
      pin: readFileSync(token.pinFile, 'utf8').trim(),
    });
    await p.open();
    await expect(p.health()).resolves.toBeUndefined();
    await p.close();
  });

  it('is idempotent: a restart finds the token and keeps its PINs', () => {
    const pins = ['user.pin', 'so.pin'].map((f) => readFileSync(path.join(softhsm, f), 'utf8'));
    const again = ensureSoftHsmToken({ dir: softhsm, label: 'zoo-kms' });
    expect(again.pinFile).toBe(path.join(softhsm, 'user.pin'));
    expect(['user.pin', 'so.pin'].map((f) => readFileSync(path.join(softhsm, f), 'utf8'))).toEqual(
      pins,
    );
    expect(readdirSync(path.join(softhsm, 'tokens'))).toHaveLength(1);
  });

  it('adds a second token with another label in the same directory', async () => {
    ensureSoftHsmToken({ dir: softhsm, label: 'zoo-kms-b' });
    expect(readdirSync(path.join(softhsm, 'tokens'))).toHaveLength(2);
  });

  it('refuses another directory once the library is initialised in this process', () => {
    expect(() => ensureSoftHsmToken({ dir: path.join(dir, 'elsewhere'), label: 'x' })).toThrow(
      /was initialised in this process with SOFTHSM2_CONF=.*softhsm2\.conf; it cannot switch/,
    );
  });

  it('refuses a label longer than a PKCS#11 label (32 bytes)', () => {
    expect(() =>
      ensureSoftHsmToken({ dir: softhsm, label: randomBytes(17).toString('hex') }),
    ).toThrow(/longer than 32 bytes/);
  });
});
