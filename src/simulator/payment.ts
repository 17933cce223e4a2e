import { X509Certificate } from 'node:crypto';
import { verifyRequestPaymentParams } from '../wechat/v2/pay-params.js';
import { verifyV3PaySign } from '../wechat/v3/pay-params.js';
import type { MerchantConfig } from './config.js';
import { type ChosenFault, intParam, isNotifyFault, takeFault } from './faults.js';
import * as ids from './ids.js';
import { currentState, isExpired, isPrepayLive } from './order-rules.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder } from './state.js';

/**
 * What `wx.requestPayment` does on the phone, for POST /sim/pay and the cashier page. Given the
 * real client's parameters (`{ result, appId, payment }`) it first checks what the WeChat client
 * checks: a live prepay_id, the appId, a 10-digit string timeStamp, the signType of
 * the order and the paySign. Then it plays the user's choice.
 */

export type PayResult = 'SUCCESS' | 'CANCEL' | 'FAIL' | 'USERPAYING';

export interface PayAnswer {
  status: number;
  body: { errMsg: string; trade_state?: string; transaction_id?: string };
}

const failWith = (status: number, detail: string): PayAnswer => ({
  status,
  body: { errMsg: `requestPayment:fail ${detail}` },
});

const SIGN_FAILED = '支付验证签名失败';

function typeName(v: unknown): string {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'Null';
  const t = typeof v;
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** The prepay_id named by the input, or an answer explaining why there is none. */
function prepayIdOf(input: Record<string, unknown>): string | PayAnswer {
  const payment = input.payment;
  if (payment === undefined) {
    return typeof input.prepay_id === 'string' && input.prepay_id !== ''
      ? input.prepay_id
      : failWith(400, `parameter error: prepay_id should be String instead of ${typeName(input.prepay_id)};`);
  }
  if (typeof payment !== 'object' || payment === null)
    return failWith(400, 'parameter error: payment should be Object;');
  const pkg = (payment as Record<string, unknown>).package;
  if (typeof pkg !== 'string') {
    return failWith(400, `parameter error: parameter.package should be String instead of ${typeName(pkg)};`);
  }
  const match = /^prepay_id=(\S+)$/.exec(pkg);
  return match ? match[1]! : failWith(400, SIGN_FAILED);
}

/** v3: `verifyV3PaySign` checks the fields' shapes too (10-digit timeStamp, prepay_id package). */
function verifyRsaPaySign(
  payment: Record<string, unknown>,
  appid: string,
  merchant: MerchantConfig,
): boolean {
  if (!merchant.cert) return false;
  const { timeStamp, nonceStr, paySign, signType } = payment;
  const params = { appid, timeStamp, nonceStr, package: payment.package, paySign, signType };
  return verifyV3PaySign(params, new X509Certificate(merchant.cert).publicKey);
}

function applyCoupon(order: SimOrder, coupon: ChosenFault | undefined): void {
  const wanted = coupon ? intParam(coupon.params, 'coupon_fee', 1) : 0;
  // A coupon never covers the whole order: at least 1 fen is paid in cash.
  order.couponFee = Math.max(0, Math.min(wanted, order.totalFee - 1));
  order.cashFee = order.totalFee - order.couponFee;
}

/**
 * @param fault a fault from the request's X-Sim-Fault header: COUPON, or a NOTIFY_* fault for
 *   this payment's notification.
 * @example
 * playRequestPayment(ctx, { prepay_id: 'wx…', result: 'SUCCESS' })
 * // { status: 200, body: { errMsg: 'requestPayment:ok', trade_state: 'SUCCESS', transaction_id: '4200…' } }
 */
export function playRequestPayment(ctx: SimContext, raw: unknown, fault?: ChosenFault): PayAnswer {
  if (typeof raw !== 'object' || raw === null)
    return failWith(400, 'parameter error: body should be a JSON object;');
  const input = raw as Record<string, unknown>;
  const result = input.result;
  if (result !== 'SUCCESS' && result !== 'CANCEL' && result !== 'FAIL' && result !== 'USERPAYING') {
    return failWith(400, 'parameter error: result should be SUCCESS, CANCEL, FAIL or USERPAYING;');
  }
  const prepayId = prepayIdOf(input);
  if (typeof prepayId !== 'string') return prepayId;
  const ref = ctx.state.prepays.get(prepayId);
  const order = ref && ctx.state.order(ref.mchId, ref.outTradeNo);
  if (!ref || !order) return failWith(400, 'prepay_id不存在');
  const merchant = ctx.state.merchants.get(order.mchId)!;
  if (input.payment !== undefined) {
    const payment = input.payment as Record<string, unknown>;
    const appId = typeof input.appId === 'string' ? input.appId : order.appid;
    // A v3 order is paid with signType RSA, signed with the merchant's API certificate key.
    const signed =
      order.api === 'v3'
        ? payment.signType === 'RSA' && verifyRsaPaySign(payment, appId, merchant)
        : verifyRequestPaymentParams(payment, appId, merchant.key) && payment.signType === order.signType;
    if (!signed || appId !== order.appid) return failWith(400, SIGN_FAILED);
  }
  if (typeof input.openid === 'string' && order.openid && input.openid !== order.openid) {
    return failWith(400, '下单账号与支付账号不一致');
  }
  const now = ctx.clock.now();
  if (!isPrepayLive(ref.issuedAt, now, ctx.behaviour)) return failWith(400, 'prepay_id已失效，请重新下单');
  const state = currentState(order, now, ctx.behaviour);
  if (state === 'SUCCESS' || state === 'REFUND') return failWith(400, '该订单已支付');
  if (state === 'CLOSED') return failWith(400, '订单已关闭');
  if (state === 'PAYERROR') return failWith(400, '订单支付失败，请重新下单');
  if (isExpired(order, now, ctx.behaviour)) return failWith(400, '订单已过期');

  switch (result) {
    case 'CANCEL':
      return { status: 200, body: { errMsg: 'requestPayment:fail cancel' } };
    case 'FAIL':
      order.state = 'PAYERROR';
      return { status: 200, body: { errMsg: 'requestPayment:fail 支付失败', trade_state: 'PAYERROR' } };
    case 'USERPAYING':
      order.state = 'USERPAYING';
      return { status: 200, body: { errMsg: 'requestPayment:fail 用户支付中', trade_state: 'USERPAYING' } };
    case 'SUCCESS': {
      const scope = { mchId: order.mchId, outTradeNo: order.outTradeNo };
      applyCoupon(order, fault?.fault === 'COUPON' ? fault : takeFault(ctx.state.faults, ['COUPON'], scope));
      order.state = 'SUCCESS';
      order.transactionId = ids.transactionId(now, ctx.state.nextSerial());
      order.timeEnd = now;
      ctx.state.putOrder(order);
      ctx.notifier.paymentSucceeded(order, fault && isNotifyFault(fault.fault) ? fault : undefined);
      return {
        status: 200,
        body: { errMsg: 'requestPayment:ok', trade_state: 'SUCCESS', transaction_id: order.transactionId },
      };
    }
  }
}
