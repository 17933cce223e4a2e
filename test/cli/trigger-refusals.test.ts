/**
 * `weapp-pay trigger` refuses, before it places any order, every service but one that talks to
 * the simulator: none at WEAPP_PAY_URL, one on WeChat's real hosts (never contacted), one whose
 * WeChat is some other server. Each service is `weapp-pay serve` in a child process.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './cli-harness.js';
import { type Child, freePort, startServeAlone } from './service-children.js';

const cleanups: (() => void)[] = [];
const dir = tempDir(cleanups);
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('weapp-pay trigger refuses anything but the simulator', { timeout: 120_000 }, () => {
  let other: Server;
  let otherUrl: string;
  const children: Child[] = [];
  beforeAll(async () => {
    // Something that answers HTTP but is not the simulator.
    other = createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const address = other.address();
    otherUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const c of children) await c.stop();
    other.close();
  });

  /** `weapp-pay serve` with v2 credentials, talking to `wechat` (unset: WeChat's real hosts). */
  async function serve(wechat: string | undefined) {
    const { child, port } = await startServeAlone(tempDir(cleanups), {
      ADMIN_TOKEN: 'admin-token-0123456789abcdef0123456789',
      ...(wechat && { WECHAT_PAY_BASE_URL: wechat, WECHAT_API_BASE_URL: wechat }),
    });
    children.push(child);
    return { url: `http://127.0.0.1:${port}`, token: 'admin-token-0123456789abcdef0123456789' };
  }

  async function orderCount(service: { url: string; token: string }): Promise<number> {
    const res = await fetch(`${service.url}/admin/orders`, {
      headers: { authorization: `Bearer ${service.token}` },
    });
    return ((await res.json()) as { total: number }).total;
  }

  it('no service: says none answers at WEAPP_PAY_URL, exit 1', async () => {
    const port = await freePort();
    const run = await runCli(['trigger', 'payment.succeeded'], {
      cwd: dir,
      env: { WEAPP_PAY_URL: `http://127.0.0.1:${port}`, ADMIN_TOKEN: 'x'.repeat(32) },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no weapp-pay service answers at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it("a service on WeChat's real hosts: refused before any order, without calling WeChat", async () => {
    const service = await serve(undefined);
    const run = await runCli(['trigger', 'payment.succeeded', '--json'], {
      cwd: dir,
      env: { WEAPP_PAY_URL: service.url, ADMIN_TOKEN: service.token },
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; error?: string; steps: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.error).toContain(
      'talks to the real WeChat (WECHAT_PAY_BASE_URL=https://api.mch.weixin.qq.com)',
    );
    expect(report.steps).toEqual([]);
    expect(await orderCount(service)).toBe(0);
  });

  it('a service whose WeChat is not the simulator: refused before any order', async () => {
    const service = await serve(otherUrl);
    const run = await runCli(['trigger', 'payment.succeeded'], {
      cwd: dir,
      env: { WEAPP_PAY_URL: service.url, ADMIN_TOKEN: service.token },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${otherUrl} is not the weapp-pay simulator (GET /sim/clock answered 404`);
    expect(await orderCount(service)).toBe(0);
    // --simulator-url cannot point elsewhere either: the address given must be a simulator too.
    const forced = await runCli(['trigger', 'payment.succeeded', '--simulator-url', otherUrl], {
      cwd: dir,
      env: { WEAPP_PAY_URL: service.url, ADMIN_TOKEN: service.token },
    });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('Check --simulator-url');
  });
});
