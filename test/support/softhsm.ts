/**
 * SoftHSM2 for tests: one token directory per test file, under os.tmpdir(), never the system one.
 * SoftHSM2 reads SOFTHSM2_CONF once per process (at C_Initialize) and vitest runs each test file in
 * its own process (pool: forks), so a file gets one directory; it may hold several tokens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pkcs11ProviderOptions } from '../../src/providers/pkcs11/provider.js';
import {
  ensureSoftHsmToken,
  type SoftHsmToken,
} from '../../src/providers/pkcs11/softhsm-bootstrap.js';

export interface TestSoftHsm {
  /** The temporary directory holding softhsm2.conf, tokens/ and the PIN files. */
  readonly dir: string;
  /** Creates (or finds) the token `label` in this directory and returns provider options for it. */
  token(label: string, overrides?: Partial<Pkcs11ProviderOptions>): TestToken;
  /** Removes the directory; call once, after every provider of the file is closed. */
  cleanup(): void;
}

export interface TestToken extends SoftHsmToken {
  readonly pin: string;
  readonly options: Pkcs11ProviderOptions;
}

let current: TestSoftHsm | undefined;

/** The SoftHSM2 directory of this test file (made on first call). */
export function testSoftHsm(): TestSoftHsm {
  if (current) return current;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-softhsm-'));
  const made: TestSoftHsm = {
    dir,
    token(label, overrides = {}) {
      const token = ensureSoftHsmToken({ dir, label });
      const pin = readFileSync(token.pinFile, 'utf8').trim();
      const options: Pkcs11ProviderOptions = {
        name: `softhsm2-${label}`,
        vendor: 'softhsm2',
        library: token.library,
        tokenLabel: token.tokenLabel,
        pin,
        ...overrides,
      };
      return { ...token, pin, options };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
      current = undefined;
    },
  };
  current = made;
  return made;
}

/** Removes this file's SoftHSM2 directory if one was made. */
export function cleanupTestSoftHsm(): void {
  current?.cleanup();
}
