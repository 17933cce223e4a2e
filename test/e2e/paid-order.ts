import type { E2E } from './browser.js';

/** A paid order through the real flow: simulated wx.login, POST /api/orders, the simulated cashier. */
export async function paidOrder(e2e: E2E): Promise<{ id: string; outTradeNo: string }> {
  const { simulatorUrl, serviceUrl, appid } = e2e.demo;
  const post = async (url: string, body: unknown, token?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return res.json() as Promise<Record<string, never>>;
  };
  const { code } = await post(`${simulatorUrl}/sim/login`, { appid });
  const { token } = await post(`${serviceUrl}/api/login`, { code });
  const created = (await post(
    `${serviceUrl}/api/orders`,
    { sku: 'coffee-latte', quantity: 1 },
    token,
  )) as unknown as {
    order: { id: string; outTradeNo: string };
    payment: { package: string };
  };
  await post(`${simulatorUrl}/sim/pay`, { prepay_id: created.payment.package.slice(10), result: 'SUCCESS' });
  for (let i = 0; i < 50; i++) {
    const row = await e2e.demo.database.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', created.order.id)
      .executeTakeFirstOrThrow();
    if (row.status === 'PAID') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return created.order;
}
