import { formatWechatTime } from '../../wechat/v2/fields.js';
import { createCloseOrderApi } from '../close-order.js';
import { createUnifiedOrderApi } from '../unified-order.js';
import { mchidMismatch } from './auth.js';
import type { V3Api, V3Context, V3Request } from './endpoint.js';
import { checkJson, type JsonFields } from './json-fields.js';
import { json, type V3Outcome, v3Error, v3Refusal } from './outcomes.js';
import { parseRfc3339, transactionOf } from './resources.js';

/**
 * 《JSAPI下单》, 《查询订单》 (by out_trade_no and by transaction_id) and 《关闭订单》 on WeChat's
 * v3 paths. Orders live in the same store as v2's and follow the same rules: the v3 request is
 * read into the fields the shared handlers take, and their answer is written back as v3 JSON.
 */

const JSAPI_FIELDS: JsonFields = {
  appid: { type: 'string', required: true, maxBytes: 32 },
  mchid: { type: 'string', required: true, maxBytes: 32 },
  description: { type: 'string', required: true, maxBytes: 127 },
  out_trade_no: { type: 'string', required: true, maxBytes: 32 },
  time_expire: { type: 'string', maxBytes: 64 },
  attach: { type: 'string', maxBytes: 128 },
  notify_url: { type: 'string', required: true, maxBytes: 255 },
  goods_tag: { type: 'string', maxBytes: 32 },
  limit_pay: { type: 'array' },
  support_fapiao: { type: 'boolean' },
  amount: {
    type: 'object',
    required: true,
    fields: { total: { type: 'integer', required: true }, currency: { type: 'string', oneOf: ['CNY'] } },
  },
  payer: {
    type: 'object',
    required: true,
    fields: { openid: { type: 'string', required: true, maxBytes: 128 } },
  },
  detail: { type: 'object' },
  scene_info: {
    type: 'object',
    fields: { payer_client_ip: { type: 'string', required: true, maxBytes: 45 } },
  },
  settle_info: { type: 'object' },
};

const CLOSE_FIELDS: JsonFields = { mchid: { type: 'string', required: true, maxBytes: 32 } };

type Obj = Record<string, unknown>;

const DAY_MS = 86_400_000;
const MAX_TIME_EXPIRE_MS = 90 * DAY_MS;
const DEFAULT_TIME_EXPIRE_MS = 7 * DAY_MS;

/** The unifiedorder fields a v3 JSAPI body stands for. */
function unifiedOrderFields(
  b: Obj,
  mchId: string,
  now: number,
): { fields: Record<string, string> } | { refusal: V3Outcome } {
  const amount = b.amount as Obj;
  const fields: Record<string, string> = {
    appid: b.appid as string,
    mch_id: mchId,
    body: b.description as string,
    out_trade_no: b.out_trade_no as string,
    total_fee: String(amount.total),
    spbill_create_ip:
      ((b.scene_info as Obj | undefined)?.payer_client_ip as string | undefined) ?? '127.0.0.1',
    notify_url: b.notify_url as string,
    trade_type: 'JSAPI',
    openid: (b.payer as Obj).openid as string,
  };
  if (b.attach !== undefined) fields.attach = b.attach as string;
  if (b.goods_tag !== undefined) fields.goods_tag = b.goods_tag as string;
  if (b.time_expire !== undefined) {
    const at = parseRfc3339(b.time_expire as string);
    if (at === undefined) {
      const detail = { field: '#/properties/time_expire', value: b.time_expire, location: 'body' };
      return { refusal: v3Error(400, 'PARAM_ERROR', 'time_expire 格式错误，应为 RFC 3339', detail) };
    }
    // 《JSAPI下单》: a deadline past 90 days is lowered to 90 days; a sooner one is handled as in v2.
    fields.time_expire = formatWechatTime(Math.min(at, now + MAX_TIME_EXPIRE_MS));
  }
  return { fields };
}

function mchidQuery(request: V3Request): V3Outcome | undefined {
  if (!request.query.mchid)
    return v3Error(400, 'PARAM_ERROR', '缺少参数 mchid', { field: 'mchid', location: 'query' });
  return mchidMismatch(request.merchant, request.query.mchid);
}

export function createTransactionApis(ctx: V3Context): V3Api[] {
  const unifiedOrder = createUnifiedOrderApi(ctx);
  const closeOrder = createCloseOrderApi(ctx);
  const notExist = () => v3Error(404, ctx.behaviour.v3OrderNotExistCode, '订单不存在');

  return [
    {
      api: 'unifiedorder',
      method: 'POST',
      path: '/v3/pay/transactions/jsapi',
      async handle({ merchant, body, now }) {
        const problem = checkJson(body, JSAPI_FIELDS) ?? mchidMismatch(merchant, body.mchid);
        if (problem) return problem;
        const app = ctx.state.apps.get(body.appid as string);
        if (app?.mchId !== merchant.mchId)
          return v3Error(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
        const read = unifiedOrderFields(body, merchant.mchId, now);
        if ('refusal' in read) return read.refusal;
        const { fields } = read;
        const existed = ctx.state.order(merchant.mchId, fields.out_trade_no!) !== undefined;
        // v3 has no sign_type; HMAC-SHA256 stands in so re-entry compares like with like.
        const outcome = await unifiedOrder.handle({
          fields,
          merchant,
          signType: 'HMAC-SHA256',
          now,
          fault: undefined,
        });
        const refusal = v3Refusal(outcome, ctx.behaviour);
        if (refusal) return refusal;
        const order = ctx.state.order(merchant.mchId, fields.out_trade_no!)!;
        if (!existed) {
          order.api = 'v3';
          // Without time_expire, an unpaid v3 order can be paid for 7 days (《JSAPI下单》).
          order.timeExpire ??= now + DEFAULT_TIME_EXPIRE_MS;
        }
        return json({ prepay_id: order.prepayId });
      },
    },
    {
      api: 'orderquery',
      method: 'GET',
      path: '/v3/pay/transactions/out-trade-no/:out_trade_no',
      handle(request) {
        const problem = mchidQuery(request);
        if (problem) return problem;
        const order = ctx.state.order(request.merchant.mchId, request.params.out_trade_no!);
        return order ? json(transactionOf(order, request.now, ctx.behaviour)) : notExist();
      },
    },
    {
      api: 'orderquery',
      method: 'GET',
      path: '/v3/pay/transactions/id/:transaction_id',
      handle(request) {
        const problem = mchidQuery(request);
        if (problem) return problem;
        const order = ctx.state.orderByTransaction(request.merchant.mchId, request.params.transaction_id!);
        return order ? json(transactionOf(order, request.now, ctx.behaviour)) : notExist();
      },
    },
    {
      api: 'closeorder',
      method: 'POST',
      path: '/v3/pay/transactions/out-trade-no/:out_trade_no/close',
      async handle({ merchant, body, params, now }) {
        const problem = checkJson(body, CLOSE_FIELDS) ?? mchidMismatch(merchant, body.mchid);
        if (problem) return problem;
        const fields = { appid: '', mch_id: merchant.mchId, out_trade_no: params.out_trade_no! };
        const outcome = await closeOrder.handle({
          fields,
          merchant,
          signType: 'HMAC-SHA256',
          now,
          fault: undefined,
        });
        const closedAgain = outcome.kind === 'result' && outcome.fields.err_code === 'ORDERCLOSED';
        if (closedAgain && ctx.behaviour.v3CloseClosedOrder === 'no-content') return { kind: 'empty' };
        return v3Refusal(outcome, ctx.behaviour) ?? { kind: 'empty' };
      },
    },
  ];
}
