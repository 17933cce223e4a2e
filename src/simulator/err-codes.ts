import type { SimApi } from './faults.js';

/**
 * The business `err_code`s each Pay API v2 documents (《统一下单》, 《查询订单》, 《关闭订单》,
 * 《申请退款》, 《查询退款》), with an `err_code_des` in WeChat's words. The `ERR_CODE` fault
 * answers any of them for its API; on API v3 the same code is translated by `v3CodeOf`
 * (v3/outcomes.ts) to its HTTP status and JSON code. The communication-layer codes
 * (`XML_FORMAT_ERROR`, `REQUIRE_POST_METHOD`, …) are `return_code=FAIL` answers, not listed here.
 */
const SHARED = {
  SYSTEMERROR: '系统超时',
  APPID_NOT_EXIST: 'APPID不存在',
  MCHID_NOT_EXIST: 'MCHID不存在',
  APPID_MCHID_NOT_MATCH: 'appid和mch_id不匹配',
  SIGNERROR: '签名错误',
} as const;

export const DOCUMENTED_ERR_CODES = {
  unifiedorder: {
    ...SHARED,
    INVALID_REQUEST: '参数错误',
    NOAUTH: '商户无此接口权限',
    NOTENOUGH: '余额不足',
    ORDERPAID: '商户订单已支付',
    ORDERCLOSED: '订单已关闭',
    LACK_PARAMS: '缺少参数',
    OUT_TRADE_NO_USED: '商户订单号重复',
  },
  orderquery: { SYSTEMERROR: SHARED.SYSTEMERROR, ORDERNOTEXIST: '此交易订单号不存在' },
  closeorder: {
    SYSTEMERROR: SHARED.SYSTEMERROR,
    SIGNERROR: SHARED.SIGNERROR,
    ORDERPAID: '订单已支付，不能发起关单',
    ORDERCLOSED: '订单已关闭，无法重复关闭',
  },
  refund: {
    ...SHARED,
    BIZERR_NEED_RETRY: '退款业务流程错误，需要商户触发重试来解决',
    TRADE_OVERDUE: '订单已经超过退款期限',
    ERROR: '业务错误',
    USER_ACCOUNT_ABNORMAL: '退款请求失败，用户帐号已注销',
    INVALID_REQ_TOO_MUCH: '无效请求过多',
    NOTENOUGH: '基本账户余额不足，请充值后重新发起',
    INVALID_TRANSACTIONID: '无效transaction_id',
    PARAM_ERROR: '参数错误',
    ORDERNOTEXIST: '订单号不存在',
    FREQUENCY_LIMITED: '频率限制',
  },
  refundquery: {
    ...SHARED,
    REFUNDNOTEXIST: '退款订单查询失败',
    INVALID_TRANSACTIONID: '无效transaction_id',
    PARAM_ERROR: '参数错误',
  },
} as const satisfies Partial<Record<SimApi, Readonly<Record<string, string>>>>;

export type ErrCodeApi = keyof typeof DOCUMENTED_ERR_CODES;
export const ERR_CODE_APIS = Object.keys(DOCUMENTED_ERR_CODES) as ErrCodeApi[];

/** `NOT_ENOUGH` and `NOTENOUGH` are one code: v3 writes underscores where v2 does not. */
const squash = (code: string) => code.toUpperCase().replace(/_/g, '');

/**
 * The documented v2 spelling and description of `code` for `api`, or a message saying which
 * codes that API documents. Accepts the v3 spelling too (`NOT_ENOUGH` → `NOTENOUGH`).
 *
 * @example
 * documentedErrCode('refund', 'NOT_ENOUGH') // { errCode: 'NOTENOUGH', des: '基本账户余额不足，请充值后重新发起' }
 * documentedErrCode('orderquery', 'NOTENOUGH') // { error: 'orderquery documents no err_code NOTENOUGH; it documents SYSTEMERROR, ORDERNOTEXIST' }
 */
export function documentedErrCode(
  api: SimApi,
  code: unknown,
): { errCode: string; des: string } | { error: string } {
  if (!(ERR_CODE_APIS as readonly string[]).includes(api)) {
    return { error: `ERR_CODE applies to ${ERR_CODE_APIS.join(', ')}, not ${api}` };
  }
  const table: Readonly<Record<string, string>> = DOCUMENTED_ERR_CODES[api as ErrCodeApi];
  if (typeof code !== 'string' || code === '')
    return { error: 'ERR_CODE needs params.err_code, e.g. NOTENOUGH' };
  const errCode = Object.keys(table).find((c) => squash(c) === squash(code));
  if (!errCode) {
    return { error: `${api} documents no err_code ${code}; it documents ${Object.keys(table).join(', ')}` };
  }
  return { errCode, des: table[errCode]! };
}

/** What an `ERR_CODE` fault answers on `api`: its params' `err_code` (and `err_code_des`, if given). */
export function errCodeFault(
  params: Readonly<Record<string, unknown>>,
  api: SimApi,
): { errCode: string; des: string } | { error: string } {
  const found = documentedErrCode(api, params.err_code);
  if ('error' in found) return found;
  const des =
    typeof params.err_code_des === 'string' && params.err_code_des !== '' ? params.err_code_des : found.des;
  return { errCode: found.errCode, des };
}
