import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/server.js';
import { launchChromium } from './helpers/chromium.js';

describe('the API reference at /docs', () => {
  const server = useTestServer('sqlite');
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    base = await server().app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every operation of the OpenAPI document in headless Chromium', async () => {
    // swagger-ui renders operations lazily as they scroll into view: a very tall viewport shows them all.
    const page = await browser.newPage({ viewport: { width: 1280, height: 60_000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/docs`, { waitUntil: 'load' });
    const spec = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.keys(spec.paths);
    const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    // swagger-ui renders tag sections one after another: wait until every operation is on the page.
    await page.waitForFunction(
      (n) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('.opblock').length >= n,
      operations,
      { timeout: 45_000 },
    );
    const rendered = await page.$$eval('.opblock .opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
    expect(expected.length).toBeGreaterThan(2);
    for (const p of expected) expect(rendered.map((r) => r.replace(/\u200b/g, ''))).toContain(p);
    expect(await page.title()).toMatch(/Swagger|Opsdeck/i);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
