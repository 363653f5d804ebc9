/**
 * Hostile inputs for the HTTP fuzz test (issue 11): a seeded generator (so a failure replays from
 * its seed) and catalogues of malformed values by kind: wrong JSON types, huge numbers, bad hex and
 * base64, points off the curve, broken age recipients, path tricks, malformed JSON text. The
 * mutators start from a valid request so most cases get past the first check and reach the service.
 */

/** mulberry32: small, fast, and enough for choosing cases (not for secrets). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(256).toString(16).padStart(2, '0');
    return s;
  }
}

const deep = (n: number, open: string, close: string, leaf = '1') =>
  open.repeat(n) + leaf + close.repeat(n);

/** Values of the wrong JSON type, or of the right type but absurd. */
export const WRONG_TYPES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  [],
  {},
  [[]],
  [null],
  { a: { b: {} } },
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\u202e\u0041',
  'A'.repeat(10_000),
  ['0x00'],
  { '0': '0x00' },
];

export const HUGE_NUMBERS: readonly unknown[] = [
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  1e21,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  0.000001,
  '18446744073709551616',
  '99999999999999999999',
  '999999999999999999999999',
  '-1',
  '+1',
  '01',
  '1e3',
  '0x10',
  ' 1',
  '1 ',
  '١٢٣',
];

export const BAD_HEX: readonly string[] = [
  '0x',
  '0x0',
  '0xzz',
  '0X00',
  '00'.repeat(32),
  '0x' + 'AB'.repeat(32),
  '0x' + '0'.repeat(63),
  '0x' + 'ff'.repeat(20_000),
  '0x 00',
  '0x00\n',
  'x00',
  '0x0x00',
  '0x' + 'g'.repeat(64),
  '0x' + '00'.repeat(31),
  '0x' + '00'.repeat(33),
];

export const BAD_BASE64: readonly string[] = [
  '!!!!',
  'a',
  'ab=',
  '====',
  'YQ',
  'Y Q==',
  '\n',
  '-_-_',
  'YWJj\u0000',
  'YWJj====',
  '=YWJj',
  'A'.repeat(3_000_001),
  '😀😀😀😀',
];

/** Encodings of points that are not on the curve, or not canonical, in every size we accept. */
export const BAD_POINTS: readonly string[] = [
  '0x02' + 'ff'.repeat(32),
  '0x03' + '00'.repeat(32),
  '0x04' + '11'.repeat(64),
  '0x04' + '00'.repeat(64),
  '0x05' + '11'.repeat(32),
  '0x00',
  '0x' + '00'.repeat(33),
  '0x' + 'ff'.repeat(32),
  '0x' + 'c0' + '00'.repeat(47),
  '0x' + 'ff'.repeat(48),
  '0x' + 'a0' + '00'.repeat(47),
  '0x' + '80' + '11'.repeat(47),
  '0x' + 'ff'.repeat(96),
  '0x' + 'c0' + '00'.repeat(95),
  '0x' + '11'.repeat(1952),
  '0x' + '00'.repeat(3309),
];

/** Broken age recipients; `valid` is mangled too (checksum, case, truncation). */
export function badRecipients(valid: string): string[] {
  const flipped = valid.slice(0, -1) + (valid.endsWith('q') ? 'p' : 'q');
  return [
    'age1',
    'age1qqqq',
    'age1pq1' + 'q'.repeat(100),
    flipped,
    valid.toUpperCase(),
    valid.slice(0, 20),
    valid + 'q',
    'age1' + 'x'.repeat(5000),
    'AGE-SECRET-KEY-1' + 'Q'.repeat(58),
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx example',
    ' ' + valid,
    valid + '\n' + valid,
    'age1bc' + valid.slice(4),
  ];
}

/** Path segments: traversal, encodings, case, length, control bytes. Already URL-safe text. */
export const PATH_TRICKS: readonly string[] = [
  '..',
  '.',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  '%2F',
  'zoo%2Fprod',
  'zoo%00',
  '%00',
  '%',
  '%zz',
  'ZOO',
  'zoo%20',
  '%20zoo',
  '*',
  '-',
  '_',
  'a'.repeat(64),
  'a'.repeat(600),
  '%F0%9D%95%AB',
  'experience-master',
  'audit-checkpoint',
  'replicate-master.zoo.prod',
  '%C0%AE%C0%AE',
  '%252e%252e',
  'hanzo',
  'prod',
  '..%5c..%5c',
  'con',
  '0',
  '-1',
  '99999999999999999999',
];

/** Request bodies that are not a JSON object at all, sent as application/json text. */
export const BAD_JSON_TEXT: readonly string[] = [
  '{',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  'undefined',
  '\ufeff{}',
  '{"a":1}{"b":2}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  deep(100_000, '[', ']'),
  deep(50_000, '{"a":', '}'),
  '[' + '1,'.repeat(200_000) + '1]',
  '"' + 'A'.repeat(100_000) + '"',
  '1e999999',
  '-',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  ' ',
  'null',
];

export const CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/xml',
  'application/json, text/plain',
  '',
];

/** Keys that exploit naive object handling. */
export const HOSTILE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  'a'.repeat(10_000),
];
