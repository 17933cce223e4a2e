import { parseFen } from '../wechat/v2/fields.js';
import { takeFault } from './faults.js';
import * as ids from './ids.js';
import { findOrder } from './order-query.js';
import { currentState } from './order-rules.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder, SimRefund } from './state.js';
import { fail, ok, refuse, type V2Api, type V2Outcome } from './v2-endpoint.js';
import { checkFields, type FieldSpecs, OUT_REFUND_NO, OUT_TRADE_NO, TRANSACTION_ID } from './validation.js';

/**
 * `POST /secapi/pay/refund` (《申请退款》), over mutual TLS. A refund is accepted as PROCESSING
 * and becomes SUCCESS after `refundDelaySeconds`, when its notification is sent. At most
 * `maxRefundsPerOrder` refunds per order, never more than was paid, and one `out_refund_no`
 * refunds once: repeating it with the same amounts answers the same refund.
 */

const SPECS: FieldSpecs = {
  transaction_id: TRANSACTION_ID,
  out_trade_no: OUT_TRADE_NO,
  out_refund_no: { required: true, ...OUT_REFUND_NO },
  total_fee: { required: true, fen: true },
  refund_fee: { required: true, fen: true },
  refund_fee_type: { oneOf: ['CNY'] },
  refund_desc: { maxBytes: 80 },
  refund_account: { oneOf: ['REFUND_SOURCE_UNSETTLED_FUNDS', 'REFUND_SOURCE_RECHARGE_FUNDS'] },
  notify_url: { maxBytes: 256, notifyUrl: true },
};

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

function answer(order: SimOrder, refund: SimRefund): V2Outcome {
  const out: Record<string, string> = {
    transaction_id: order.transactionId ?? '',
    out_trade_no: order.outTradeNo,
    out_refund_no: refund.outRefundNo,
    refund_id: refund.refundId,
    refund_fee: String(refund.refundFee),
    coupon_refund_fee: String(refund.refundFee - refund.cashRefundFee),
    total_fee: String(order.totalFee),
    cash_fee: String(order.cashFee ?? order.totalFee),
    cash_refund_fee: String(refund.cashRefundFee),
  };
  if (refund.refundFee === refund.cashRefundFee) delete out.coupon_refund_fee;
  return ok(out);
}

/** Refunds that count against the paid amount: all but the ones that were closed. */
const refunded = (order: SimOrder): number =>
  order.refunds.filter((r) => r.status !== 'REFUNDCLOSE').reduce((sum, r) => sum + r.refundFee, 0);

export function createRefundApi(ctx: SimContext): V2Api {
  const complete = (order: SimOrder, refund: SimRefund): void => {
    if (refund.status !== 'PROCESSING') return;
    // REFUND_ABNORMAL / REFUND_CLOSED: the refund ends in v2's CHANGE / REFUNDCLOSE instead.
    const scope = { mchId: order.mchId, outTradeNo: order.outTradeNo };
    const ending = takeFault(ctx.state.faults, ['REFUND_ABNORMAL', 'REFUND_CLOSED'], scope)?.fault;
    refund.status =
      ending === 'REFUND_ABNORMAL' ? 'CHANGE' : ending === 'REFUND_CLOSED' ? 'REFUNDCLOSE' : 'SUCCESS';
    if (refund.status === 'SUCCESS') refund.successAt = ctx.clock.now();
    ctx.notifier.refundFinished(order, refund);
  };

  return {
    api: 'refund',
    path: '/secapi/pay/refund',
    clientCert: true,
    handle({ fields, merchant, now }): V2Outcome {
      const problem = checkFields(fields, SPECS, { requireHttps: ctx.behaviour.requireHttpsNotifyUrl });
      if (problem?.kind === 'missing') return refuse('LACK_PARAMS', `缺少参数${problem.field}`);
      if (problem) return fail(problem.message);
      if (!fields.transaction_id && !fields.out_trade_no) {
        return refuse('LACK_PARAMS', '缺少参数out_trade_no或transaction_id');
      }
      const order = findOrder(ctx, merchant.mchId, fields);
      if (!order && fields.transaction_id) return refuse('INVALID_TRANSACTIONID', '无效的transaction_id');
      const state = order && currentState(order, now, ctx.behaviour);
      if (!order || (state !== 'SUCCESS' && state !== 'REFUND'))
        return refuse('ORDERNOTEXIST', '订单不存在或未支付');
      const totalFee = parseFen(fields.total_fee!)!;
      const refundFee = parseFen(fields.refund_fee!)!;
      const existing = ctx.state.refund(merchant.mchId, fields.out_refund_no!);
      if (existing) {
        const same =
          existing.outTradeNo === order.outTradeNo &&
          existing.refundFee === refundFee &&
          existing.totalFee === totalFee;
        return same
          ? answer(order, existing)
          : refuse('INVALID_REQUEST', '订单金额或退款金额与之前请求不一致，请核实后再试');
      }
      if (totalFee !== order.totalFee) return refuse('PARAM_ERROR', '订单金额total_fee与原订单不一致');
      if (order.timeEnd !== undefined && now > order.timeEnd + ONE_YEAR_MS) {
        return refuse('TRADE_OVERDUE', '订单已经超过退款期限');
      }
      if (order.refunds.length >= ctx.behaviour.maxRefundsPerOrder) {
        return refuse('ERROR', `退款次数超过限制，一笔订单最多退款${ctx.behaviour.maxRefundsPerOrder}次`);
      }
      if (refunded(order) + refundFee > order.totalFee)
        return refuse('PARAM_ERROR', '申请退款金额超过订单可退金额');
      const cashFee = order.cashFee ?? order.totalFee;
      const refund: SimRefund = {
        mchId: merchant.mchId,
        outTradeNo: order.outTradeNo,
        outRefundNo: fields.out_refund_no!,
        refundId: ids.refundId(now, ctx.state.nextSerial()),
        totalFee,
        refundFee,
        // A coupon order gives back cash in proportion; the rest returns to the coupon.
        cashRefundFee: Math.floor((refundFee * cashFee) / order.totalFee),
        status: 'PROCESSING',
        refundAccount: fields.refund_account || 'REFUND_SOURCE_UNSETTLED_FUNDS',
        refundDesc: fields.refund_desc || undefined,
        notifyUrl: fields.notify_url || undefined,
        createdAt: now,
        successAt: undefined,
      };
      order.refunds.push(refund);
      ctx.state.putRefund(refund);
      if (ctx.behaviour.refundMarksOrder) order.state = 'REFUND';
      ctx.clock.schedule(now + (ctx.behaviour.refundDelaySeconds * 1000) / ctx.timeScale, () =>
        complete(order, refund),
      );
      return answer(order, refund);
    },
  };
}
