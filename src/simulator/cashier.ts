import type { FastifyInstance } from 'fastify';
import { type CashierView, renderCashierPage } from './cashier-page.js';
import { currentState, isExpired, isPrepayLive } from './order-rules.js';
import type { SimContext } from './sim-context.js';

/**
 * `GET /sim/cashier?prepay_id=…` (or with the full wx.requestPayment parameters: appId,
 * timeStamp, nonceStr, package, signType, paySign). The page is meant to be framed by the
 * demo, so it sends no X-Frame-Options and allows any frame ancestor.
 */

const PAYMENT_KEYS = ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const;

function viewFor(ctx: SimContext, q: Record<string, string | undefined>): CashierView {
  const fromPackage = q.package?.startsWith('prepay_id=') ? q.package.slice('prepay_id='.length) : undefined;
  const prepayId = q.prepay_id ?? fromPackage ?? '';
  const view: CashierView = { prepayId, lang: q.lang === 'en' ? 'en' : 'zh' };
  if (q.package !== undefined) {
    view.payment = Object.fromEntries(PAYMENT_KEYS.map((k) => [k, q[k] ?? '']));
    if (q.appId !== undefined) view.appId = q.appId;
  }
  const ref = ctx.state.prepays.get(prepayId);
  const order = ref && ctx.state.order(ref.mchId, ref.outTradeNo);
  if (!ref || !order) return { ...view, problem: '订单不存在：未知的 prepay_id' };
  const merchant = ctx.state.merchants.get(order.mchId);
  Object.assign(view, {
    merchantName: merchant?.name ?? `商户${order.mchId}`,
    description: order.body,
    totalFee: order.totalFee,
  });
  const now = ctx.clock.now();
  const state = currentState(order, now, ctx.behaviour);
  if (!isPrepayLive(ref.issuedAt, now, ctx.behaviour)) view.problem = 'prepay_id已失效，请重新下单';
  else if (state === 'SUCCESS' || state === 'REFUND') view.problem = '该订单已支付';
  else if (state === 'CLOSED' || state === 'PAYERROR') view.problem = '订单已关闭';
  else if (isExpired(order, now, ctx.behaviour)) view.problem = '订单已过期';
  return view;
}

export function registerCashier(app: FastifyInstance, ctx: SimContext): void {
  app.get('/sim/cashier', async (request, reply) => {
    const view = viewFor(ctx, request.query as Record<string, string | undefined>);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', 'frame-ancestors *')
      .send(renderCashierPage(view));
  });
}
