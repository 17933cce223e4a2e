import Koa, { type Context } from 'koa';
import type { ShopDb } from './shop-db.js';
import { createPayment, type WeappPayConfig, WeappPayError } from './weapp-pay-client.js';
import { readRawBody, webhookHandler } from './webhook-handler.js';

export interface ShopConfig {
  db: ShopDb;
  weappPay: WeappPayConfig;
  /** The endpoint's secret, shown once when it was created (POST /admin/webhooks). */
  webhookSecret: string;
}

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx);
  try {
    const body = JSON.parse(raw?.toString('utf8') ?? '');
    if (body && typeof body === 'object' && !Array.isArray(body)) return body;
  } catch {}
  return ctx.throw(400, 'send a JSON object');
}

/**
 * The shop's backend: its products, its orders, and weapp-pay's webhook. A real shop would log
 * its users in and take the openid from its session; here the order carries it.
 */
export function createShopApp({ db, weappPay, webhookSecret }: ShopConfig): Koa {
  const app = new Koa();
  const onWebhook = webhookHandler(db, webhookSecret);

  app.use(async (ctx) => {
    const { method, path } = ctx;
    if (method === 'GET' && path === '/products') {
      ctx.body = { products: db.products() };
    } else if (method === 'POST' && path === '/orders') {
      const { sku, quantity = 1, openid } = await readJson(ctx);
      if (typeof sku !== 'string' || typeof openid !== 'string' || !Number.isInteger(quantity)) {
        return ctx.throw(400, 'an order is {sku, quantity, openid}');
      }
      const q = quantity as number;
      if (q < 1 || q > 99) return ctx.throw(400, 'quantity is 1 to 99');
      const order = db.createOrder(sku, q, openid);
      if (!order) return ctx.throw(404, `no product ${sku}`);
      try {
        const { requestPayment } = await createPayment(weappPay, order);
        ctx.status = 201;
        ctx.body = { order, requestPayment };
      } catch (err) {
        if (!(err instanceof WeappPayError)) throw err;
        ctx.status = 502;
        ctx.body = { error: err.code, message: err.message };
      }
    } else if (method === 'GET' && path.startsWith('/orders/')) {
      const order = db.findOrder(path.slice('/orders/'.length));
      if (!order) return ctx.throw(404, 'no such order');
      ctx.body = { order, shipments: db.shipmentsOf(order.id) };
    } else if (method === 'POST' && path === '/webhooks/weapp-pay') {
      await onWebhook(ctx);
    } else {
      ctx.throw(404, 'not found');
    }
  });
  return app;
}
