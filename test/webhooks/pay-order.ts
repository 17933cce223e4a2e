import { CREDENTIALS, type Harness } from '../service/harness.js';

/**
 * A user logs in, orders one coffee and pays at the simulator's cashier; returns once the
 * payment notification has committed (and with it the payment.succeeded event).
 */
export async function payCoffee(h: Harness): Promise<{ id: string; outTradeNo: string }> {
  const { token } = await h.login();
  const res = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 });
  const { order, payment } = (await res.json()) as {
    order: { id: string; outTradeNo: string };
    payment: { package: string };
  };
  await h.sim('/sim/pay', {
    prepay_id: payment.package.slice('prepay_id='.length),
    result: 'SUCCESS',
    appId: CREDENTIALS.appid,
    payment,
  });
  await h.clock.settle();
  return order;
}
