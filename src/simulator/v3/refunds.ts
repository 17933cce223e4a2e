import { createRefundApi } from '../refund.js';
import type { V3Api, V3Context } from './endpoint.js';
import { checkJson, type JsonFields } from './json-fields.js';
import { json, v3Error, v3Refusal } from './outcomes.js';
import { refundOf } from './resources.js';

/**
 * 《退款申请》 `POST /v3/refund/domestic/refunds` and 《查询单笔退款》
 * `GET /v3/refund/domestic/refunds/{out_refund_no}`. No mutual TLS in v3: the RSA request
 * signature is the proof. The rules (amounts, 50 refunds, one year, one `out_refund_no` refunds
 * once) are v2's, shared through the same handler.
 */

const REFUND_FIELDS: JsonFields = {
  transaction_id: { type: 'string', maxBytes: 32 },
  out_trade_no: { type: 'string', maxBytes: 32 },
  out_refund_no: { type: 'string', required: true, maxBytes: 64 },
  reason: { type: 'string', maxBytes: 80 },
  notify_url: { type: 'string', maxBytes: 256 },
  funds_account: { type: 'string', oneOf: ['AVAILABLE'] },
  amount: {
    type: 'object',
    required: true,
    fields: {
      refund: { type: 'integer', required: true },
      total: { type: 'integer', required: true },
      currency: { type: 'string', required: true, oneOf: ['CNY'] },
      from: { type: 'array' },
    },
  },
  goods_detail: { type: 'array' },
};

export function createRefundApis(ctx: V3Context): V3Api[] {
  const refundApi = createRefundApi(ctx);
  return [
    {
      api: 'refund',
      method: 'POST',
      path: '/v3/refund/domestic/refunds',
      async handle({ merchant, body, now }) {
        const problem = checkJson(body, REFUND_FIELDS);
        if (problem) return problem;
        if (body.transaction_id === undefined && body.out_trade_no === undefined)
          return v3Error(400, 'PARAM_ERROR', 'transaction_id 和 out_trade_no 必须填一个');
        const amount = body.amount as Record<string, number>;
        const fields: Record<string, string> = {
          appid: '',
          mch_id: merchant.mchId,
          out_refund_no: body.out_refund_no as string,
          total_fee: String(amount.total),
          refund_fee: String(amount.refund),
        };
        if (typeof body.transaction_id === 'string') fields.transaction_id = body.transaction_id;
        if (typeof body.out_trade_no === 'string') fields.out_trade_no = body.out_trade_no;
        if (typeof body.reason === 'string') fields.refund_desc = body.reason;
        if (typeof body.notify_url === 'string') fields.notify_url = body.notify_url;
        if (body.funds_account === 'AVAILABLE') fields.refund_account = 'REFUND_SOURCE_RECHARGE_FUNDS';
        const existed = ctx.state.refund(merchant.mchId, fields.out_refund_no!) !== undefined;
        const outcome = await refundApi.handle({
          fields,
          merchant,
          signType: 'HMAC-SHA256',
          now,
          fault: undefined,
        });
        const refusal = v3Refusal(outcome, ctx.behaviour);
        if (refusal) return refusal;
        const refund = ctx.state.refund(merchant.mchId, fields.out_refund_no!)!;
        if (!existed) refund.api = 'v3';
        return json(refundOf(ctx.state.order(merchant.mchId, refund.outTradeNo)!, refund));
      },
    },
    {
      api: 'refundquery',
      method: 'GET',
      path: '/v3/refund/domestic/refunds/:out_refund_no',
      handle({ merchant, params }) {
        const refund = ctx.state.refund(merchant.mchId, params.out_refund_no!);
        const order = refund && ctx.state.order(merchant.mchId, refund.outTradeNo);
        if (!refund || !order) return v3Error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
        return json(refundOf(order, refund));
      },
    },
  ];
}
