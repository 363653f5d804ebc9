/**
 * An independent reading of docs/envelope.md for the envelope tests: it builds and opens
 * ciphertexts with node:crypto from the documented layout, without the service's code, so the
 * tests show the format is what the document says.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TestKms } from '../support/kms.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function canonical(context: Record<string, string> = {}): Buffer {
  const pairs = Object.entries(context)
    .map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([
    u32(pairs.length),
    ...pairs.flatMap(([k, v]) => [u32(k.length), k, u32(v.length), v]),
  ]);
}

function aad(name: string, header: Buffer, context?: Record<string, string>): Buffer {
  const n = Buffer.from(name);
  return Buffer.concat([
    Buffer.from('zoo-kms/envelope/v1\0'),
    header,
    u32(n.length),
    n,
    canonical(context),
  ]);
}

/** Opens an envelope ciphertext with the raw key; returns its version and plaintext. */
export function referenceOpen(
  key: Uint8Array,
  name: string,
  ciphertext: string,
  context?: Record<string, string>,
) {
  const b = Buffer.from(ciphertext, 'base64');
  if (b.subarray(0, 4).toString('hex') !== '5a4b4501') throw new Error('not a v1 envelope');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(8, 20));
  d.setAAD(aad(name, b.subarray(0, 8), context));
  d.setAuthTag(b.subarray(b.length - 16));
  return {
    keyVersion: b.readUInt32BE(4),
    plaintext: Buffer.concat([d.update(b.subarray(20, b.length - 16)), d.final()]),
  };
}

export function referenceSeal(
  key: Uint8Array,
  name: string,
  keyVersion: number,
  plaintext: Uint8Array,
  context?: Record<string, string>,
): string {
  const header = Buffer.concat([Buffer.from('5a4b4501', 'hex'), u32(keyVersion)]);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(name, header, context));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, iv, body, c.getAuthTag()]).toString('base64');
}

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Imports a known 32-byte key (the test keeps an extractable copy) as admin. */
export async function importKey(
  t: TestKms,
  name: string,
  algorithm: string,
  purpose: string,
  secret: Uint8Array,
): Promise<void> {
  const r = await t.call('POST', '/v1/keys/import', {
    body: { name, algorithm, purpose, privateKey: '0x' + Buffer.from(secret).toString('hex') },
  });
  if (r.status !== 201) throw new Error(`import ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Every audit event, through the API's paging. */
export async function allAuditEvents(t: TestKms): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let after: string | null = null;
  do {
    const r: { body: { events: Record<string, unknown>[]; next: string | null } } = await t.call(
      'GET',
      `/v1/audit/events?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    out.push(...r.body.events);
    after = r.body.next;
  } while (after);
  return out;
}
