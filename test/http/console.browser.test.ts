/**
 * The console at /docs in a real browser (issue 9): headless Chromium (Debian's `chromium`, driven
 * by playwright-core) opens /docs on a listening KMS, authorizes with a bearer token, runs
 * GET /v1/keys with "Try it out" / "Execute" and sees a 200 with the key it listed. Every request
 * the page makes goes to the KMS itself (assets served locally, no CDN), and nothing is refused by
 * the page's CSP. The screenshot is kept as test-artifacts/console.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { principalToken, startKms, type TestKms } from '../support/kms.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

let t: TestKms;
let base: string;
let browser: Browser;
beforeAll(async () => {
  t = await startKms();
  base = await t.kms.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('console at /docs', () => {
  it('authorizes with a token and runs GET /v1/keys from the page', async () => {
    const created = await t.call('POST', '/v1/keys', {
      body: { name: 'console-demo-key', algorithm: 'ed25519', purpose: 'signing' },
    });
    expect(created.status).toBe(201);
    const token = await principalToken(t, 'console-operator', 'signing', ['console-*']);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${base}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });
    expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('Zoo KMS');

    // Authorize: the bearerAuth scheme's value field, then Authorize and Close.
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const modal = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await modal.locator('input').first().fill(token);
    await modal.locator('button.authorize').click();
    await modal.locator('button.btn-done').click();

    const op = page
      .locator('.opblock.opblock-get')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/v1/keys"]') });
    await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();

    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.innerText()).trim()).toBe('200');
    const body = await op
      .locator('.live-responses-table .response .response-col_description')
      .first()
      .innerText();
    expect(body).toContain('console-demo-key');

    mkdirSync(ARTIFACTS, { recursive: true });
    await op.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'console.png'), fullPage: true });

    // Everything the page loaded or called came from the KMS itself.
    expect(requests.length).toBeGreaterThan(4);
    expect(requests.filter((u) => !u.startsWith(`${base}/`))).toEqual([]);
    expect(requests).toContain(`${base}/v1/keys`);
    expect(problems).toEqual([]);
    await page.close();
  });
});
