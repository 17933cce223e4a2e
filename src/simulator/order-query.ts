import { formatWechatTime } from '../wechat/v2/fields.js';
import { currentState, TRADE_STATE_DESC } from './order-rules.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder } from './state.js';
import { fail, ok, refuse, type V2Api, type V2Outcome } from './v2-endpoint.js';
import { checkFields, type FieldSpecs, OUT_TRADE_NO, TRANSACTION_ID } from './validation.js';

/** `POST /pay/orderquery` (《查询订单》). `transaction_id` wins when both numbers are given. */

const SPECS: FieldSpecs = { transaction_id: TRANSACTION_ID, out_trade_no: OUT_TRADE_NO };

/** The order a query, close or refund names: by transaction_id first, else out_trade_no. */
export function findOrder(
  ctx: SimContext,
  mchId: string,
  fields: Readonly<Record<string, string>>,
): SimOrder | undefined {
  if (fields.transaction_id) return ctx.state.orderByTransaction(mchId, fields.transaction_id);
  return fields.out_trade_no ? ctx.state.order(mchId, fields.out_trade_no) : undefined;
}

/** Payment fields shared by orderquery and the refund answers: amounts, coupon, payer. */
export function paidFields(order: SimOrder): Record<string, string> {
  const out: Record<string, string> = {
    openid: order.openid ?? '',
    is_subscribe: 'N',
    trade_type: order.tradeType,
    bank_type: order.bankType,
    total_fee: String(order.totalFee),
    fee_type: 'CNY',
    cash_fee: String(order.cashFee ?? order.totalFee),
    cash_fee_type: 'CNY',
    transaction_id: order.transactionId ?? '',
    time_end: formatWechatTime(order.timeEnd ?? order.createdAt),
  };
  if (order.couponFee > 0) {
    Object.assign(out, {
      coupon_fee: String(order.couponFee),
      coupon_count: '1',
      coupon_fee_0: String(order.couponFee),
    });
  }
  return out;
}

export function createOrderQueryApi(ctx: SimContext): V2Api {
  return {
    api: 'orderquery',
    path: '/pay/orderquery',
    handle({ fields, merchant, now }): V2Outcome {
      const problem = checkFields(fields, SPECS);
      if (problem?.kind === 'invalid') return fail(problem.message);
      if (!fields.transaction_id && !fields.out_trade_no) {
        return refuse('LACK_PARAMS', '缺少参数out_trade_no或transaction_id');
      }
      const order = findOrder(ctx, merchant.mchId, fields);
      if (!order) return refuse('ORDERNOTEXIST', '订单不存在');
      const state = currentState(order, now, ctx.behaviour);
      // Unpaid orders: the fields seen in real responses (《查询订单》 does not say exactly which).
      const out: Record<string, string> = {
        trade_state: state,
        trade_state_desc: TRADE_STATE_DESC[state],
        out_trade_no: order.outTradeNo,
        total_fee: String(order.totalFee),
      };
      if (order.attach) out.attach = order.attach;
      if (order.deviceInfo) out.device_info = order.deviceInfo;
      if (state === 'SUCCESS' || state === 'REFUND') Object.assign(out, paidFields(order));
      return ok(out);
    },
  };
}
