import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/server.js';
import { launchChromium } from './helpers/chromium.js';

/**
 * A name the browser maps to 127.0.0.1: browsers exempt localhost and 127.0.0.1 from
 * `upgrade-insecure-requests`, but not a named host, so the page is seen as a user on another
 * host would see it, while the traffic stays on loopback.
 */
const HOST = 'opsdeck-docs.test';

const directives = (csp: string) =>
  csp
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);

// /docs was a blank page over plain HTTP on any host but localhost: the CSP said upgrade-insecure-requests.
describe('/docs over plain HTTP on a host other than localhost', () => {
  const server = useTestServer('sqlite');
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    await server().app.listen({ host: '127.0.0.1', port: 0 });
    const address = server().app.server.address();
    base = `http://${HOST}:${typeof address === 'object' && address ? address.port : 0}`;
    browser = await launchChromium([HOST]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('sends no upgrade-insecure-requests, on /docs nor on the API, and the CSP allows every asset the page uses', async () => {
    const page = await server().app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const csp = directives(String(page.headers['content-security-policy']));
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(csp).toContain("script-src 'self'");
    const api = await server().app.inject({ url: '/api/v1/openapi.json' });
    expect(directives(String(api.headers['content-security-policy']))).not.toContain('upgrade-insecure-requests');
    // Every script and stylesheet is same-origin (what `'self'` allows) and loads; no inline script.
    const assets = [...page.body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    for (const a of assets) {
      expect(a.startsWith('./')).toBe(true);
      const res = await server().app.inject({ url: `/docs/${a.slice(2)}` });
      expect(res.statusCode, a).toBe(200);
    }
  });

  it('renders the operations in headless Chromium with no blocked request', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 4000 } });
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()) && /script|stylesheet|connect/i.test(m.text())) failed.push(m.text());
    });
    await page.goto(`${base}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    expect(failed.filter((f) => f.startsWith('https:'))).toEqual([]);
    expect(await page.$$eval('.opblock', (els) => els.length)).toBeGreaterThan(3);
    await page.close();
  }, 90_000);
});
