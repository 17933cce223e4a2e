import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, type E2E, screenshot, startE2E } from './browser.js';

describe.skipIf(!browserAvailable)('API reference at /docs (Chromium, offline)', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('asks for the admin token, then renders every route from /docs/json, loading nothing from outside', async () => {
    const { page, errors } = await e2e.newPage();
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    await page.goto(`${e2e.demo.serviceUrl}/docs`);

    await page.locator('#admin-token').fill('not-the-token');
    await page.getByRole('button', { name: 'Show the API' }).click();
    await page.locator('#token-status', { hasText: 'refused (401)' }).waitFor();

    await page.locator('#admin-token').fill(e2e.demo.adminToken);
    await page.getByRole('button', { name: 'Show the API' }).click();
    const routes = page.locator('.opblock-summary-path');
    await routes.first().waitFor({ timeout: 15_000 });
    const paths = await routes.allTextContents();
    const clean = paths.map((p) => p.replace(/\u200b/g, ''));
    expect(clean).toEqual(
      expect.arrayContaining(['/api/orders', '/api/orders/{id}/sync', '/healthz', '/metrics']),
    );
    await screenshot(page, '20-api-docs');

    // The token lives in this tab's sessionStorage: a reload shows the routes without asking again.
    await page.reload();
    await routes.first().waitFor({ timeout: 15_000 });
    expect([...origins]).toEqual([e2e.demo.serviceUrl]);
    // The one expected console error is the refused token's 401.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  }, 90_000); // Swagger UI's bundle is 1.7 MB of script: on a loaded machine two page loads take a while.
});
