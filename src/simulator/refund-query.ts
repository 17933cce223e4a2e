import { formatRefundTime } from './notification-bodies.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder, SimRefund } from './state.js';
import { fail, ok, refuse, type V2Api, type V2Outcome } from './v2-endpoint.js';
import { checkFields, type FieldSpecs, OUT_REFUND_NO, OUT_TRADE_NO, TRANSACTION_ID } from './validation.js';

/**
 * `POST /pay/refundquery` (《查询退款》). Priority when several numbers are given: refund_id >
 * out_refund_no > transaction_id > out_trade_no. By order number, at most 10 records from
 * `offset`; `total_refund_count` says how many there are.
 */

const SPECS: FieldSpecs = {
  refund_id: { maxBytes: 32, pattern: /^[0-9A-Za-z]+$/ },
  out_refund_no: OUT_REFUND_NO,
  transaction_id: TRANSACTION_ID,
  out_trade_no: OUT_TRADE_NO,
  offset: { pattern: /^(0|[1-9][0-9]{0,2})$/ },
};

const PAGE = 10;

function lookup(
  ctx: SimContext,
  mchId: string,
  f: Readonly<Record<string, string>>,
): [SimOrder, SimRefund[]] | undefined {
  const one = f.refund_id
    ? ctx.state.refundById(mchId, f.refund_id)
    : f.out_refund_no
      ? ctx.state.refund(mchId, f.out_refund_no)
      : undefined;
  if (f.refund_id || f.out_refund_no) {
    const order = one && ctx.state.order(mchId, one.outTradeNo);
    return order && one ? [order, [one]] : undefined;
  }
  const order = f.transaction_id
    ? ctx.state.orderByTransaction(mchId, f.transaction_id)
    : ctx.state.order(mchId, f.out_trade_no!);
  return order && order.refunds.length > 0 ? [order, order.refunds] : undefined;
}

export function createRefundQueryApi(ctx: SimContext): V2Api {
  return {
    api: 'refundquery',
    path: '/pay/refundquery',
    handle({ fields, merchant }): V2Outcome {
      const problem = checkFields(fields, SPECS);
      if (problem?.kind === 'invalid') return fail(problem.message);
      if (!fields.refund_id && !fields.out_refund_no && !fields.transaction_id && !fields.out_trade_no) {
        return refuse(
          'LACK_PARAMS',
          '缺少参数，refund_id、out_refund_no、transaction_id、out_trade_no至少填一个',
        );
      }
      const found = lookup(ctx, merchant.mchId, fields);
      if (!found) return refuse('REFUNDNOTEXIST', '退款订单查询失败');
      const [order, all] = found;
      const offset = Number(fields.offset || '0');
      if (offset > 0 && offset >= all.length) return refuse('PARAM_ERROR', 'offset超过退款总笔数');
      const page = all.slice(offset, offset + PAGE);
      const out: Record<string, string> = {
        transaction_id: order.transactionId ?? '',
        out_trade_no: order.outTradeNo,
        total_fee: String(order.totalFee),
        fee_type: 'CNY',
        cash_fee: String(order.cashFee ?? order.totalFee),
        total_refund_count: String(order.refunds.length),
        refund_count: String(page.length),
      };
      page.forEach((r, n) => {
        out[`out_refund_no_${n}`] = r.outRefundNo;
        out[`refund_id_${n}`] = r.refundId;
        out[`refund_channel_${n}`] = 'ORIGINAL';
        out[`refund_fee_${n}`] = String(r.refundFee);
        out[`refund_status_${n}`] = r.status;
        out[`refund_account_${n}`] = r.refundAccount;
        out[`refund_recv_accout_${n}`] = '支付用户零钱';
        if (r.successAt !== undefined) out[`refund_success_time_${n}`] = formatRefundTime(r.successAt);
      });
      return ok(out);
    },
  };
}
