/** Reads the public test vectors from ../shared/vectors (vectors/README.md: read, never copied). */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const vectorsDir = resolve(repoRoot, '../shared/vectors');

export function readJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(vectorsDir, ...parts), 'utf8')) as T;
}

/** Every JSON file of one folder as [fileName, parsed]. */
export function readFolder<T>(...parts: string[]): [string, T][] {
  const dir = join(vectorsDir, ...parts);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as T]);
}

/** Hex with or without 0x (vector files differ) -> bytes. */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.startsWith('0x') ? s.slice(2) : s, 'hex'));
}

export interface WycheproofFile<G> {
  testGroups: (G & { tests: WycheproofTest[] })[];
}

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}

/** A case of ../shared/vectors/rfc5869-hkdf (hex; `salt` null: not provided). */
export interface Rfc5869Case {
  id: string;
  hash: string;
  ikm: string;
  salt: string | null;
  info: string;
  L: number;
  prk: string;
  okm: string;
}

/** RFC 5869 Appendix A, every case. */
export function rfc5869Cases(): Rfc5869Case[] {
  return readJson<{ tests: Rfc5869Case[] }>('rfc5869-hkdf', 'rfc5869_hkdf_test_vectors.json').tests;
}
