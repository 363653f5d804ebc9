/**
 * The C2SP CCTV age vectors (../shared/vectors/cctv-age/testdata, read in place): each file is
 * `key: value` header lines (`expect`, `payload` = SHA-256 of the plaintext, `identity`, ...), a
 * blank line, then the age file, maybe zlib-compressed and armored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { armor } from 'age-encryption';
import { vectorsDir } from './vectors.js';

export interface CctvAgeVector {
  readonly name: string;
  readonly headers: Map<string, string[]>;
  readonly file: Uint8Array;
}

function readVector(dir: string, name: string): CctvAgeVector {
  const raw = readFileSync(join(dir, name));
  const end = raw.indexOf('\n\n');
  const headers = new Map<string, string[]>();
  for (const line of raw.subarray(0, end).toString('utf8').split('\n')) {
    const at = line.indexOf(': ');
    headers.set(line.slice(0, at), [...(headers.get(line.slice(0, at)) ?? []), line.slice(at + 2)]);
  }
  return { name, headers, file: raw.subarray(end + 2) };
}

/** Every CCTV age vector, by name. */
export function cctvAgeVectors(): CctvAgeVector[] {
  const dir = join(vectorsDir, 'cctv-age', 'testdata');
  return readdirSync(dir)
    .sort()
    .map((n) => readVector(dir, n));
}

/** The binary age file of a vector (decompressed, de-armored). */
export function ageFile(v: CctvAgeVector): Uint8Array {
  let file = v.file;
  if (v.headers.get('compressed')?.[0] === 'zlib') file = inflateSync(file);
  if (v.headers.get('armored')?.[0] === 'yes')
    file = armor.decode(Buffer.from(file).toString('utf8'));
  return file;
}
