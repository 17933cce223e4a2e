import { parseFen, parseWechatTime } from '../wechat/v2/fields.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import type { SimBehaviour } from './config.js';
import * as ids from './ids.js';
import { changedFields, currentState, isExpired, isPrepayLive, reentryParams } from './order-rules.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder } from './state.js';
import { fail, ok, refuse, type V2Api, type V2Outcome, type V2Request } from './v2-endpoint.js';
import { checkFields, type FieldSpecs, OUT_TRADE_NO } from './validation.js';

/** `POST /pay/unifiedorder` (《统一下单》): create or re-enter an order, answer a prepay_id. */

const SPECS: FieldSpecs = {
  body: { required: true, maxBytes: 127 },
  out_trade_no: { required: true, ...OUT_TRADE_NO },
  total_fee: { required: true, fen: true },
  spbill_create_ip: { required: true, maxBytes: 64, ip: true },
  notify_url: { required: true, maxBytes: 256, notifyUrl: true },
  trade_type: { required: true, oneOf: ['JSAPI', 'NATIVE', 'APP', 'MWEB'] },
  device_info: { maxBytes: 32 },
  detail: { maxBytes: 6000 },
  attach: { maxBytes: 127 },
  fee_type: { oneOf: ['CNY'] },
  time_start: { wechatTime: true },
  time_expire: { wechatTime: true },
  goods_tag: { maxBytes: 32 },
  product_id: { maxBytes: 32 },
  limit_pay: { oneOf: ['no_credit'] },
  openid: { maxBytes: 128 },
  receipt: { oneOf: ['Y'] },
  profit_sharing: { oneOf: ['Y', 'N'] },
  scene_info: { maxBytes: 256 },
};

function issuePrepay(ctx: SimContext, order: SimOrder, now: number): string {
  const prepayId = ids.prepayId(now, ctx.state.nextSerial());
  order.prepayId = prepayId;
  order.prepayIssuedAt = now;
  ctx.state.prepays.set(prepayId, { mchId: order.mchId, outTradeNo: order.outTradeNo, issuedAt: now });
  return prepayId;
}

function prepayAnswer(order: SimOrder): V2Outcome {
  const fields: Record<string, string> = { trade_type: order.tradeType, prepay_id: order.prepayId };
  if (order.tradeType === 'NATIVE')
    fields.code_url = `weixin://wxpay/bizpayurl?pr=${order.prepayId.slice(-7)}`;
  return ok(fields);
}

/**
 * A `time_expire` sooner than the minimum is raised to it, or refused. One that has already
 * passed is refused by default (`timeExpireInPast`): it is usually a UTC time sent as Beijing time.
 */
function resolveTimeExpire(
  ctx: SimContext,
  raw: string | undefined,
  now: number,
): number | V2Outcome | undefined {
  if (!raw) return undefined;
  const at = parseWechatTime(raw)!;
  const earliest = now + ctx.behaviour.minTimeExpireSeconds * 1000;
  if (at >= earliest) return at;
  if (at <= now && ctx.behaviour.timeExpireInPast === 'reject') {
    return refuse('INVALID_REQUEST', 'time_expire已过期，请检查是否为北京时间(UTC+8)');
  }
  if (ctx.behaviour.timeExpireTooSoon === 'reject') {
    return refuse(
      'INVALID_REQUEST',
      `time_expire时间过短，至少为下单后${ctx.behaviour.minTimeExpireSeconds}秒`,
    );
  }
  return earliest;
}

/**
 * Re-entry: the order's state answers first (ORDERPAID, ORDERCLOSED), then the parameter comparison. A
 * `time_expire` is judged against the clock only when it moves: an identical retry sent after
 * the deadline is the same order, not a new deadline in the past (or one to raise).
 */
function reenter(
  ctx: SimContext,
  order: SimOrder,
  request: { params: Record<string, string>; signType: V2SignType },
  now: number,
): V2Outcome {
  const state = currentState(order, now, ctx.behaviour);
  if (state === 'SUCCESS' || state === 'REFUND') return refuse('ORDERPAID', '该订单已支付');
  if (state === 'CLOSED') return refuse('ORDERCLOSED', '该订单已关闭');
  if (state === 'PAYERROR') return refuse('INVALID_REQUEST', '该订单支付失败，请使用新的商户订单号重新下单');
  const movable = ctx.behaviour.allowTimeExpireChange;
  const changed = changedFields(order.params, request.params).filter(
    (k) => !(movable && k === 'time_expire'),
  );
  if (changed.length > 0) {
    const code = ctx.behaviour.reentryConflictCode;
    const des = code === 'INVALID_REQUEST' ? '201 商户订单号重复' : '同一笔交易不能多次提交';
    return refuse(code, des);
  }
  // A WeChat staffer says re-entry with only time_expire changed is accepted, new value wins.
  const raw = request.params.time_expire;
  if (raw !== undefined && raw !== order.params.time_expire) {
    const moved = resolveTimeExpire(ctx, raw, now);
    if (typeof moved === 'object') return moved;
    order.timeExpire = moved;
    order.params = { ...order.params, time_expire: raw };
  }
  if (isExpired(order, now, ctx.behaviour))
    return refuse('ORDERCLOSED', '订单已过期，请使用新的商户订单号重新下单');
  // The paySign of the new prepay_id uses the algorithm of this call.
  order.signType = request.signType;
  const reuse =
    ctx.behaviour.reentryPrepayId === 'same' && isPrepayLive(order.prepayIssuedAt, now, ctx.behaviour);
  if (!reuse) issuePrepay(ctx, order, now);
  return prepayAnswer(order);
}

/**
 * The checks on the request's own fields, before any state is looked at: limits and formats
 * (`return_code=FAIL`), missing fields and the trade type's conditional ones (`LACK_PARAMS`).
 * The client's request builder must refuse exactly these (see field-limits.property.test.ts).
 *
 * @example
 * checkUnifiedOrderFields({ ...valid, body: '测'.repeat(43) }, behaviour) // fail('body参数长度有误')
 */
export function checkUnifiedOrderFields(
  fields: Readonly<Record<string, string>>,
  behaviour: Pick<SimBehaviour, 'requireHttpsNotifyUrl'>,
): V2Outcome | undefined {
  const problem = checkFields(fields, SPECS, { requireHttps: behaviour.requireHttpsNotifyUrl });
  if (problem?.kind === 'missing') return refuse('LACK_PARAMS', `缺少参数${problem.field}`);
  if (problem) return fail(problem.message);
  if (fields.trade_type === 'JSAPI' && !fields.openid)
    return refuse('LACK_PARAMS', '缺少参数openid，JSAPI支付必须传openid');
  if (fields.trade_type === 'NATIVE' && !fields.product_id)
    return refuse('LACK_PARAMS', '缺少参数product_id');
  return undefined;
}

export function createUnifiedOrderApi(ctx: SimContext): V2Api {
  return {
    api: 'unifiedorder',
    path: '/pay/unifiedorder',
    handle({ fields, merchant, signType, now }: V2Request): V2Outcome {
      const problem = checkUnifiedOrderFields(fields, ctx.behaviour);
      if (problem) return problem;
      const tradeType = fields.trade_type!;
      const openid = fields.openid || undefined;
      if (
        openid &&
        tradeType === 'JSAPI' &&
        ctx.behaviour.strictOpenid &&
        ctx.state.openids.get(openid) !== fields.appid
      ) {
        return refuse('PARAM_ERROR', 'appid和openid不匹配');
      }
      const params = reentryParams(fields);
      const existing = ctx.state.order(merchant.mchId, fields.out_trade_no!);
      if (existing) return reenter(ctx, existing, { params, signType }, now);
      const timeExpire = resolveTimeExpire(ctx, fields.time_expire, now);
      if (typeof timeExpire === 'object') return timeExpire;
      const order: SimOrder = {
        mchId: merchant.mchId,
        appid: fields.appid!,
        outTradeNo: fields.out_trade_no!,
        params,
        signType,
        body: fields.body!,
        totalFee: parseFen(fields.total_fee!)!,
        openid,
        tradeType,
        notifyUrl: fields.notify_url!,
        attach: fields.attach || undefined,
        deviceInfo: fields.device_info || undefined,
        state: 'NOTPAY',
        createdAt: now,
        timeExpire,
        prepayId: '',
        prepayIssuedAt: now,
        transactionId: undefined,
        timeEnd: undefined,
        cashFee: undefined,
        couponFee: 0,
        bankType: 'OTHERS',
        refunds: [],
      };
      issuePrepay(ctx, order, now);
      ctx.state.putOrder(order);
      return prepayAnswer(order);
    },
  };
}
