/**
 * Browser harness for the end-to-end tests: Debian's Chromium (never a downloaded browser)
 * through playwright-core, headless, on a fresh profile; the service and the simulator
 * in-process on free ports, on SQLite in a temp folder.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Demo, startDemo } from '../../src/demo/start-demo.js';

export const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

/** Off CI a missing browser skips the suite; on CI it fails, so it can never skip silently. */
export const browserAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';

export interface E2E {
  demo: Demo;
  context: BrowserContext;
  /** A new tab with console errors and failed page scripts collected. */
  newPage(viewport?: { width: number; height: number }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function startE2E(): Promise<E2E> {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-e2e-'));
  const demo = await startDemo({
    port: 0,
    simulatorPort: 0,
    databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
  });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    await demo.close();
    throw err;
  }
  return {
    demo,
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
      });
      return { page, errors };
    },
    async close() {
      await context.close();
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Saves what the test saw under test-results/screenshots/ (git-ignored) for a person to look at. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Opens the demo and waits until the mini program has logged in and shown the products. */
export async function openShop(page: Page, baseUrl: string, query = ''): Promise<void> {
  await page.goto(`${baseUrl}/${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}

/** The cashier sheet is the simulator's page inside the overlay iframe. */
export function cashier(page: Page) {
  return page.frameLocator('#cashier-frame');
}
