import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { startDemo } from './start-demo.js';

async function json(url: string, init: { body?: unknown; token?: string } = {}) {
  const res = await fetch(url, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON came back
  return (await res.json()) as any;
}

describe('the demo', () => {
  for (const [what, apiVersion, signType, notifyPath] of [
    ['on API v3 by default', undefined, 'RSA', '/payment/wxnotify/v3'],
    ['on API v2 when asked', 'v2', 'HMAC-SHA256', '/payment/wxnotify'],
  ] as const) {
    it(`takes an order to PAID ${what}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-demo-'));
      const demo = await startDemo({
        port: 0,
        simulatorPort: 0,
        databaseUrl: `sqlite:${join(dir, 'demo.db')}`,
        log: createLogger('silent'),
        ...(apiVersion && { apiVersion }),
      });
      try {
        expect(demo.apiVersion).toBe(apiVersion ?? 'v3');
        const { code } = await json(`${demo.simulatorUrl}/sim/login`, { body: { appid: demo.appid } });
        const { token } = await json(`${demo.serviceUrl}/api/login`, { body: { code } });
        const created = await json(`${demo.serviceUrl}/api/orders`, {
          token,
          body: { sku: 'coffee-americano', quantity: 1 },
        });
        expect(created.payment.signType).toBe(signType);
        // The simulator's cashier checks paySign as the WeChat client does.
        const paid = await json(`${demo.simulatorUrl}/sim/pay`, {
          body: {
            prepay_id: created.payment.package.slice(10),
            result: 'SUCCESS',
            appId: demo.appid,
            payment: created.payment,
          },
        });
        expect(paid.trade_state).toBe('SUCCESS');
        let status = 'PENDING';
        for (let i = 0; i < 50 && status !== 'PAID'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          status = (await json(`${demo.serviceUrl}/api/orders/${created.order.id}`, { token })).order.status;
        }
        expect(status).toBe('PAID');
        const { attempts } = await json(
          `${demo.simulatorUrl}/sim/notifications?out_trade_no=${created.order.outTradeNo}`,
        );
        expect(attempts[0]).toMatchObject({ ok: true, url: `${demo.serviceUrl}${notifyPath}` });
        if (signType === 'RSA') {
          // What the browser demo's timeline shows of the v3 exchange.
          expect(attempts[0].http_status).toBe(204);
          expect(attempts[0].v3.headers['Wechatpay-Serial']).toMatch(/^PUB_KEY_ID_/);
          expect(attempts[0].v3.resource).toMatchObject({
            out_trade_no: created.order.outTradeNo,
            trade_state: 'SUCCESS',
            amount: { total: created.order.amount },
          });
        } else {
          expect(attempts[0].v3).toBeUndefined();
        }
      } finally {
        await demo.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
