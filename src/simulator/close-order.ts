import { currentState } from './order-rules.js';
import type { SimContext } from './sim-context.js';
import { fail, ok, refuse, type V2Api, type V2Outcome } from './v2-endpoint.js';
import { checkFields, type FieldSpecs, OUT_TRADE_NO } from './validation.js';

/** `POST /pay/closeorder` (《关闭订单》): only an unpaid order closes. */

const SPECS: FieldSpecs = { out_trade_no: { required: true, ...OUT_TRADE_NO } };

export function createCloseOrderApi(ctx: SimContext): V2Api {
  return {
    api: 'closeorder',
    path: '/pay/closeorder',
    handle({ fields, merchant, now }): V2Outcome {
      const problem = checkFields(fields, SPECS);
      if (problem?.kind === 'missing') return refuse('LACK_PARAMS', `缺少参数${problem.field}`);
      if (problem) return fail(problem.message);
      const order = ctx.state.order(merchant.mchId, fields.out_trade_no!);
      if (!order) return refuse('ORDERNOTEXIST', '订单不存在');
      const state = currentState(order, now, ctx.behaviour);
      if (state === 'SUCCESS' || state === 'REFUND') return refuse('ORDERPAID', '订单已支付，不能发起关单');
      if (state === 'CLOSED') return refuse('ORDERCLOSED', '订单已关闭，无需重复关单');
      // 《关闭订单》's 5-minute rule is advice, not enforced, unless a knob says otherwise.
      const tooEarly = now < order.createdAt + ctx.behaviour.closeOrderMinAgeSeconds * 1000;
      if (tooEarly && ctx.behaviour.closeOrderRule === 'systemerror')
        return refuse('SYSTEMERROR', '系统超时');
      if (tooEarly && ctx.behaviour.closeOrderRule === 'noop') return ok({ result_msg: 'OK' });
      order.state = 'CLOSED';
      return ok({ result_msg: 'OK' });
    },
  };
}
