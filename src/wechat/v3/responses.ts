import { isValidFen } from '../v2/fields.js';

/**
 * The JSON objects WeChat returns or notifies in API v3, typed, and checked before a caller may
 * trust them: a response or decrypted resource that lacks a field the caller acts on (the state,
 * the amount, the numbers) is malformed, never guessed. Field names stay WeChat's (snake_case),
 * so what is logged matches 《查询订单》 and 《支付通知》 word for word.
 */

export type V3TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

const TRADE_STATES: readonly V3TradeState[] = [
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
];

/** The Transaction object of 《查询订单》 and of a decrypted `TRANSACTION.SUCCESS` notification. */
export interface V3Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  /** Absent while unpaid. */
  transaction_id?: string;
  trade_type?: string;
  trade_state: V3TradeState;
  trade_state_desc?: string;
  bank_type?: string;
  attach?: string;
  /** RFC 3339, when paid. */
  success_time?: string;
  payer?: { openid: string };
  /** `total` in fen; compare it with the order, never `payer_total` (coupons lower it). */
  amount?: { total: number; payer_total?: number; currency?: string; payer_currency?: string };
  scene_info?: { device_id?: string };
  promotion_detail?: unknown[];
}

export type V3RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

const REFUND_STATUSES: readonly V3RefundStatus[] = ['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL'];

/** The Refund object of 《退款申请》 and 《查询单笔退款》. */
export interface V3Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel?: string;
  user_received_account?: string;
  success_time?: string;
  create_time?: string;
  status: V3RefundStatus;
  funds_account?: string;
  amount: {
    total: number;
    refund: number;
    payer_total?: number;
    payer_refund?: number;
    settlement_refund?: number;
    settlement_total?: number;
    discount_refund?: number;
    currency?: string;
    from?: unknown[];
  };
  promotion_detail?: unknown[];
}

/** The decrypted resource of a `REFUND.SUCCESS`, `REFUND.ABNORMAL` or `REFUND.CLOSED` notification. */
export interface V3RefundResource {
  mchid: string;
  transaction_id: string;
  out_trade_no: string;
  refund_id: string;
  out_refund_no: string;
  refund_status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
  success_time?: string;
  user_received_account?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
}

type Json = Record<string, unknown>;

/**
 * `JSON.parse` that answers `undefined` instead of throwing on hostile text.
 *
 * @example
 * parseJson('{"a":1}') // { a: 1 }
 * parseJson('<html>') // undefined
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isFen = (value: unknown): value is number => typeof value === 'number' && isValidFen(value);
const isFenOrZero = (value: unknown): value is number => value === 0 || isFen(value);
const optionalText = (value: unknown) => value === undefined || typeof value === 'string';
const optionalFen = (value: unknown) => value === undefined || isFenOrZero(value);

/**
 * The value as a {@link V3Transaction}, or `undefined` when a field the caller acts on is missing
 * or of the wrong type. A paid order (SUCCESS, REFUND) must carry `transaction_id` and
 * `amount.total`, because the caller credits on them.
 *
 * @example
 * toV3Transaction(JSON.parse(body)) // { trade_state: 'NOTPAY', out_trade_no: 'ORDER_1', … } or undefined
 */
export function toV3Transaction(value: unknown): V3Transaction | undefined {
  if (!isObject(value)) return undefined;
  const { appid, mchid, out_trade_no, transaction_id, trade_state, amount } = value;
  if (!isText(appid) || !isText(mchid) || !isText(out_trade_no)) return undefined;
  if (!TRADE_STATES.includes(trade_state as V3TradeState) || !optionalText(transaction_id)) return undefined;
  if (amount !== undefined) {
    if (!isObject(amount) || !isFen(amount.total) || !optionalFen(amount.payer_total)) return undefined;
  }
  if (trade_state === 'SUCCESS' || trade_state === 'REFUND') {
    if (!isText(transaction_id) || amount === undefined) return undefined;
  }
  for (const name of ['trade_type', 'trade_state_desc', 'bank_type', 'attach', 'success_time'] as const) {
    if (!optionalText(value[name])) return undefined;
  }
  return value as unknown as V3Transaction;
}

/**
 * The value as a {@link V3Refund}, or `undefined` when malformed.
 *
 * @example
 * toV3Refund(JSON.parse(body))?.status // 'PROCESSING'
 */
export function toV3Refund(value: unknown): V3Refund | undefined {
  if (!isObject(value)) return undefined;
  for (const name of ['refund_id', 'out_refund_no', 'transaction_id', 'out_trade_no'] as const) {
    if (!isText(value[name])) return undefined;
  }
  if (!REFUND_STATUSES.includes(value.status as V3RefundStatus)) return undefined;
  const { amount } = value;
  if (!isObject(amount) || !isFen(amount.total) || !isFen(amount.refund)) return undefined;
  return value as unknown as V3Refund;
}

/**
 * The value as a {@link V3RefundResource} (a decrypted refund notification), or `undefined`.
 *
 * @example
 * toV3RefundResource(result.resource)?.refund_status // 'SUCCESS'
 */
export function toV3RefundResource(value: unknown): V3RefundResource | undefined {
  if (!isObject(value)) return undefined;
  for (const name of ['mchid', 'refund_id', 'out_refund_no', 'transaction_id', 'out_trade_no'] as const) {
    if (!isText(value[name])) return undefined;
  }
  if (!['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(value.refund_status as string)) return undefined;
  const { amount } = value;
  if (!isObject(amount) || !isFen(amount.total) || !isFen(amount.refund)) return undefined;
  return value as unknown as V3RefundResource;
}
