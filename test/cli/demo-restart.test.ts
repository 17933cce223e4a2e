/**
 * A restarted demo keeps its credentials (data/demo-credentials.json, mode 0600), so the orders
 * of its earlier run are queried with the key they were signed with and settle, instead of being
 * rejected for a bad signature and left PENDING.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateDemoCredentials } from '../../src/demo/demo-credentials.js';
import { type Demo, startDemo } from '../../src/demo/start-demo.js';
import { runMain, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function demoIn(dir: string): Promise<Demo> {
  return startDemo({
    port: 0,
    simulatorPort: 0,
    databaseUrl: `sqlite:${dir}/demo.db`,
    credentials: loadOrCreateDemoCredentials(join(dir, 'data/demo-credentials.json')).credentials,
  });
}

async function createOrder(demo: Demo): Promise<string> {
  const sim = await fetch(`${demo.simulatorUrl}/sim/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: demo.appid }),
  });
  const { code } = (await sim.json()) as { code: string };
  const login = await fetch(`${demo.serviceUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${demo.serviceUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ sku: 'coffee-americano', quantity: 1 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { order: { id: string } }).order.id;
}

describe('demo credentials across restarts', () => {
  it('weapp-pay start writes them to ./data with mode 0600 and uses the same ones the next time', async () => {
    const dir = tempDir(cleanups);
    const env = { DATABASE_URL: `sqlite:${dir}/demo.db` };
    const first = await runMain(['start', '--port', '0', '--simulator-port', '0'], { cwd: dir, env });
    expect(first.code).toBe(0);
    const file = join(dir, 'data/demo-credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { appid, adminToken } = JSON.parse(readFileSync(file, 'utf8')) as {
      appid: string;
      adminToken: string;
    };
    expect(first.stdout).toContain(`(appid ${appid};`);
    const second = await runMain(['start', '--port', '0', '--simulator-port', '0'], { cwd: dir, env });
    expect(second.stdout).toContain(`(appid ${appid};`);
    expect(second.stdout).toContain(`Admin token      ${adminToken}`);
    // Two demo starts, each making an RSA merchant certificate (v3): slow on a busy machine.
  }, 90_000);

  it('an order left PENDING by the previous run settles after a restart', async () => {
    const dir = tempDir(cleanups);
    const first = await demoIn(dir);
    const orderId = await createOrder(first);
    await first.close();

    const second = await demoIn(dir);
    try {
      expect(second.appid).toBe(first.appid);
      const { db } = second.database;
      // The order outlived its payment window while the demo was stopped.
      const past = Date.now() - 2 * 3600_000;
      await db
        .updateTable('orders')
        .set({ created_at: past, expires_at: past + 1800_000 })
        .where('id', '=', orderId)
        .execute();
      const report = await second.service.reconciler.runOnce();
      expect(report).toMatchObject({ claimed: 1, failed: 0, closed: 1 });
      const order = await db
        .selectFrom('orders')
        .select('status')
        .where('id', '=', orderId)
        .executeTakeFirstOrThrow();
      expect(order.status).toBe('CLOSED');
    } finally {
      await second.close();
    }
  }, 90_000);
});
