/**
 * The wrap repair (src/keyring/repair.ts) never gives a destroyed version a blob back, even when the
 * destruction commits while the repair is between its unwrap and its write (crypto-shredding,
 * API.md "Keys"). Two software providers; the returning one's `wrap` waits on a gate the test opens
 * after destroying the key, so the interleaving is exact.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Algorithm } from '../../src/providers/provider.js';
import { SoftwareProvider } from '../../src/providers/software.js';
import { ForwardingProvider } from '../support/forwarding-provider.js';
import { startKms, type TestKms } from '../support/kms.js';

/** Forwards to a real provider; `wrap` first waits for the gate while it is closed. */
class Gated extends ForwardingProvider {
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  entered: Promise<void> = Promise.resolve();
  private enter: (() => void) | undefined;

  closeGate(): void {
    this.gate = new Promise((r) => (this.release = r));
    this.entered = new Promise((r) => (this.enter = r));
  }
  openGate(): void {
    this.release?.();
    this.gate = undefined;
  }
  override async wrap(a: Algorithm, s: Uint8Array) {
    const copy = Uint8Array.from(s);
    this.enter?.();
    await this.gate;
    return super.wrap(a, copy);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-repair-'));
let t: TestKms;
let a: Gated;

beforeAll(async () => {
  a = new Gated(new SoftwareProvider({ name: 'a', keyFile: path.join(dir, 'a.key') }));
  const b = new SoftwareProvider({ name: 'b', keyFile: path.join(dir, 'b.key') });
  t = await startKms({ providers: () => [a, b] });
});
afterAll(async () => {
  a?.openGate();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function wrapsOf(name: string): Promise<string[]> {
  const rows = await t.kms.services.deps.db
    .selectFrom('key_wraps')
    .innerJoin('keys', 'keys.id', 'key_wraps.key_id')
    .select('key_wraps.provider')
    .where('keys.name', '=', name)
    .execute();
  return rows.map((r) => r.provider).sort();
}

describe('wrap repair and destruction', () => {
  it('a key destroyed while its repair is in flight gets no blob, and the refusal is audited', async () => {
    const set = t.kms.services.providers;
    set.markDown('a', 'taken out by the test');
    const made = await t.call('POST', '/v1/keys', {
      body: { name: 'doomed', algorithm: 'hmac-sha256', purpose: 'derivation' },
    });
    expect(made.status).toBe(201);
    expect(await wrapsOf('doomed')).toEqual(['b']);

    a.closeGate();
    // The health check probes `a` after its 1 s backoff, finds it healthy, and the repair starts.
    await a.entered;
    expect((await t.call('DELETE', '/v1/keys/doomed')).status).toBe(200);
    a.openGate();

    const events = async () =>
      (await t.call('GET', '/v1/audit/events?action=key.wrap_repair&limit=10')).body.events as {
        key: string;
        outcome: string;
        code: string | null;
      }[];
    const started = Date.now();
    while ((await events()).length === 0) {
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await events()).toEqual([
      expect.objectContaining({ key: 'doomed', outcome: 'refused', code: 'KEY_DESTROYED' }),
    ]);
    expect(await wrapsOf('doomed')).toEqual([]);
  });
});
