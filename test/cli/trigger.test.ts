/**
 * `weapp-pay trigger` against the real demo (`weapp-pay start`: service and simulator in a child
 * process, API v3): each event made to happen, then checked from the outside, in the service's
 * admin API and the simulator's record, not in what trigger says about itself. The refusals of a
 * service that is not the simulator's are in trigger-refusals.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './cli-harness.js';
import { type Demo, startDemoChild } from './service-children.js';

interface TriggerJson {
  event: string;
  ok: boolean;
  orderId: string | null;
  outTradeNo: string | null;
  status: string | null;
  steps: { step: string; detail: string }[];
  notes: string[];
  error?: string;
}
type OrderPage = {
  order: { id: string; status: string; paidSource: string | null };
  refunds: { status: string; amount: number }[];
};
type Attempt = { kind: string; copy: number; status: string; http_status: number | null };

const cleanups: (() => void)[] = [];
let dir: string;
let demo: Demo;
let env: Record<string, string>;

beforeAll(async () => {
  dir = tempDir(cleanups);
  demo = await startDemoChild(dir);
  env = { WEAPP_PAY_URL: demo.serviceUrl, ADMIN_TOKEN: demo.adminToken };
}, 90_000);
afterAll(async () => {
  await demo?.child.stop();
  for (const c of cleanups.splice(0)) c();
});

async function trigger(event: string, extra: string[] = []) {
  const run = await runCli(['trigger', event, '--json', ...extra], { cwd: dir, env });
  const report = JSON.parse(run.stdout) as TriggerJson;
  expect(report.error, run.stderr).toBeUndefined();
  expect(run.code).toBe(0);
  expect(report).toMatchObject({ event, ok: true });
  return report;
}

async function adminGet<T>(path: string): Promise<T> {
  const res = await fetch(`${demo.serviceUrl}${path}`, {
    headers: { authorization: `Bearer ${demo.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function attempts(outTradeNo: string): Promise<Attempt[]> {
  const res = await fetch(`${demo.simulatorUrl}/sim/notifications?out_trade_no=${outTradeNo}&kind=payment`);
  return ((await res.json()) as { attempts: Attempt[] }).attempts;
}

describe('weapp-pay trigger against the demo', { timeout: 120_000 }, () => {
  it('payment.succeeded: the notification reaches the service, which marks the order PAID', async () => {
    const report = await trigger('payment.succeeded');
    const page = await adminGet<OrderPage>(`/admin/orders/${report.orderId}`);
    expect(page.order).toMatchObject({ status: 'PAID', paidSource: 'notify' });
    expect(report.status).toBe('PAID');
    const sent = await attempts(report.outTradeNo as string);
    expect(sent.map((a) => [a.status, a.http_status])).toEqual([['delivered', 204]]);
    expect(report.steps.map((s) => s.step)).toEqual([
      `the service at ${demo.serviceUrl} talks to the simulator`,
      'logged in as the mini program',
      'ordered 1 × coffee-americano for ¥0.01',
      "paid at the simulator's cashier",
      'the service marked the order PAID (learnt by notify)',
    ]);
  });

  it('payment.failed: the cashier fails the payment, and the order query closes the order', async () => {
    const report = await trigger('payment.failed');
    const page = await adminGet<OrderPage & { timeline: { type: string; data: unknown }[] }>(
      `/admin/orders/${report.orderId}`,
    );
    expect(page.order.status).toBe('CLOSED');
    expect(page.timeline).toContainEqual(
      expect.objectContaining({
        type: 'queried',
        data: expect.objectContaining({ trade_state: 'PAYERROR' }),
      }),
    );
    expect(await attempts(report.outTradeNo as string)).toEqual([]);
  });

  it('payment.closed: the order is closed at the simulator and in the service', async () => {
    const report = await trigger('payment.closed');
    expect((await adminGet<OrderPage>(`/admin/orders/${report.orderId}`)).order.status).toBe('CLOSED');
    const res = await fetch(`${demo.simulatorUrl}/sim/orders?out_trade_no=${report.outTradeNo}`);
    const { orders } = (await res.json()) as { orders: { trade_state: string }[] };
    expect(orders.map((o) => o.trade_state)).toEqual(['CLOSED']);
  });

  it('refund.succeeded: the whole amount goes back and the order is REFUNDED', async () => {
    const report = await trigger('refund.succeeded', ['--sku', 'coffee-latte', '--quantity', '2']);
    const page = await adminGet<OrderPage>(`/admin/orders/${report.orderId}`);
    expect(page.order.status).toBe('REFUNDED');
    expect(page.refunds.map((r) => [r.status, r.amount])).toEqual([['SUCCESS', 5600]]);
    expect(report.steps.map((s) => s.step)).toContain('ordered 2 × coffee-latte for ¥56.00');
  });

  it('refund.failed: the refund ends abnormally (CHANGE) and the order stays PAID', async () => {
    const report = await trigger('refund.failed');
    const page = await adminGet<OrderPage>(`/admin/orders/${report.orderId}`);
    expect(page.order.status).toBe('PAID');
    expect(page.refunds.map((r) => r.status)).toEqual(['CHANGE']);
  });

  it('notification.duplicate: two copies arrive, both acknowledged, the order credited once', async () => {
    const report = await trigger('notification.duplicate');
    const sent = await attempts(report.outTradeNo as string);
    expect(sent.map((a) => [a.copy, a.status, a.http_status])).toEqual([
      [1, 'delivered', 204],
      [2, 'delivered', 204],
    ]);
    const logs = await adminGet<{ entries: { kind: string; outcome: string | null }[] }>(
      `/admin/logs?order=${report.orderId}`,
    );
    const outcomes = logs.entries.filter((e) => e.kind === 'notification').map((e) => e.outcome);
    expect(outcomes.sort()).toEqual(['duplicate', 'paid']);
  });

  it('notification.dropped: the simulator drops it, and the service has not heard of the payment', async () => {
    const report = await trigger('notification.dropped');
    expect(report.status).toBe('PENDING');
    expect((await attempts(report.outTradeNo as string)).map((a) => a.status)).toContain('dropped');
    expect(report.notes.join(' ')).toContain(`weapp-pay orders sync ${report.orderId}`);
  });

  it('prints each step on its own line for people, without colour when not on a terminal', async () => {
    const run = await runCli(['trigger', 'payment.succeeded'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'weapp-pay trigger payment.succeeded: an order paid at the cashier; its notification marks it PAID',
    );
    expect(lines.filter((l) => l.startsWith('✓ '))).toHaveLength(5);
    expect(lines.at(-1)).toMatch(/^order [0-9a-f-]{36} {2}PAID {2}\(weapp-pay orders show [0-9a-f-]{36}\)$/);
    expect(run.stdout).not.toContain('\x1b[');
  });

  it("uses the demo's admin token from ./data/demo-credentials.json when ADMIN_TOKEN is unset", async () => {
    const run = await runCli(['trigger', 'payment.closed', '--json'], {
      cwd: dir,
      env: { WEAPP_PAY_URL: demo.serviceUrl },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("using the demo's admin token from data/demo-credentials.json");
    // The demo's banner points at the same commands.
    expect(demo.child.output()).toContain('npx weapp-pay logs --follow');
  });

  it('refuses an unknown event with the list, a bad quantity, and an unknown flag with a suggestion', async () => {
    const unknown = await runCli(['trigger', 'payment.succeded'], { cwd: dir, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown event "payment.succeded"');
    expect(unknown.stderr).toContain('notification.dropped');
    const quantity = await runCli(['trigger', 'payment.succeeded', '--quantity', '0'], { cwd: dir, env });
    expect(quantity.stderr).toContain('--quantity must be 1 to 999');
    const flag = await runCli(['trigger', 'payment.succeeded', '--skus', 'latte'], { cwd: dir, env });
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain("unknown option '--skus'");
    expect(flag.stderr).toContain('(Did you mean --sku?)');
  });

  it('refuses a wrong admin token, naming ADMIN_TOKEN', async () => {
    const run = await runCli(['trigger', 'payment.succeeded'], {
      cwd: dir,
      env: { ...env, ADMIN_TOKEN: 'x'.repeat(32) },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused the admin token');
    expect(run.stderr).toContain("set ADMIN_TOKEN to the service's ADMIN_TOKEN");
  });
});
