import { WechatUnknownOutcomeError } from '../errors.js';
import { parseFen } from './fields.js';

/**
 * Typed views of verified v2 response fields. Every provider state is mapped exhaustively: an
 * unknown `trade_state` or `refund_status` is a malformed response, never silently "pending"
 * (the mistake style.md warns about). Amounts go through the strict {@link parseFen}.
 */

export type V2TradeState =
  | 'SUCCESS'
  | 'REFUND'
  | 'NOTPAY'
  | 'CLOSED'
  | 'REVOKED'
  | 'USERPAYING'
  | 'PAYERROR'
  | 'ACCEPT';

export type V2RefundStatus = 'SUCCESS' | 'REFUNDCLOSE' | 'PROCESSING' | 'CHANGE';

function malformed(what: string, detail: string): WechatUnknownOutcomeError {
  return new WechatUnknownOutcomeError('malformed', `${what}: ${detail}`);
}

/**
 * @example
 * toTradeState('NOTPAY', 'orderquery') // 'NOTPAY'
 * toTradeState('PENDING', 'orderquery') // throws WechatUnknownOutcomeError('malformed')
 */
export function toTradeState(value: string | undefined, what: string): V2TradeState {
  const state = value as V2TradeState;
  switch (state) {
    case 'SUCCESS':
    case 'REFUND':
    case 'NOTPAY':
    case 'CLOSED':
    case 'REVOKED':
    case 'USERPAYING':
    case 'PAYERROR':
    case 'ACCEPT':
      return state;
    default: {
      const unknown: never = state;
      throw malformed(what, `unknown trade_state ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * @example
 * toRefundStatus('PROCESSING', 'refundquery') // 'PROCESSING'
 */
export function toRefundStatus(value: string | undefined, what: string): V2RefundStatus {
  const status = value as V2RefundStatus;
  switch (status) {
    case 'SUCCESS':
    case 'REFUNDCLOSE':
    case 'PROCESSING':
    case 'CHANGE':
      return status;
    default: {
      const unknown: never = status;
      throw malformed(what, `unknown refund status ${JSON.stringify(unknown)}`);
    }
  }
}

/** A field that must be present and non-empty. */
export function requireField(fields: Readonly<Record<string, string>>, name: string, what: string): string {
  const value = fields[name];
  if (value === undefined || value === '') throw malformed(what, `response lacks ${name}`);
  return value;
}

/** An optional amount: absent is `undefined`; present but not a strict amount is malformed. */
export function optionalFen(
  fields: Readonly<Record<string, string>>,
  name: string,
  what: string,
): number | undefined {
  const text = fields[name];
  if (text === undefined || text === '') return undefined;
  const fen = parseFen(text);
  if (fen === undefined) throw malformed(what, `${name} is not an amount in fen`);
  return fen;
}

export function requireFen(fields: Readonly<Record<string, string>>, name: string, what: string): number {
  const fen = optionalFen(fields, name, what);
  if (fen === undefined) throw malformed(what, `response lacks ${name}`);
  return fen;
}

const optional = (value: string | undefined): string | undefined => (value === '' ? undefined : value);

export interface OrderQueryResult {
  tradeState: V2TradeState;
  tradeStateDesc?: string;
  outTradeNo: string;
  /** Present once paid (SUCCESS, REFUND). */
  transactionId?: string;
  totalFee?: number;
  cashFee?: number;
  feeType?: string;
  /** `yyyyMMddHHmmss`, Beijing time; see parseWechatTime. */
  timeEnd?: string;
  openid?: string;
  attach?: string;
  /** Every verified field, for audit and for fields this type does not name. */
  fields: Readonly<Record<string, string>>;
}

/**
 * The typed result of `orderquery`. A paid order (SUCCESS or REFUND) must carry its
 * `transaction_id` and `total_fee`, because the caller credits on them.
 *
 * @example
 * toOrderQueryResult({ trade_state: 'NOTPAY', out_trade_no: 'ORDER_1', … }) // { tradeState: 'NOTPAY', … }
 */
export function toOrderQueryResult(fields: Readonly<Record<string, string>>): OrderQueryResult {
  const what = 'orderquery';
  const tradeState = toTradeState(fields.trade_state, what);
  const paid = tradeState === 'SUCCESS' || tradeState === 'REFUND';
  return {
    tradeState,
    tradeStateDesc: optional(fields.trade_state_desc),
    outTradeNo: requireField(fields, 'out_trade_no', what),
    transactionId: paid ? requireField(fields, 'transaction_id', what) : optional(fields.transaction_id),
    totalFee: paid ? requireFen(fields, 'total_fee', what) : optionalFen(fields, 'total_fee', what),
    cashFee: optionalFen(fields, 'cash_fee', what),
    feeType: optional(fields.fee_type),
    timeEnd: optional(fields.time_end),
    openid: optional(fields.openid),
    attach: optional(fields.attach),
    fields,
  };
}

export interface RefundRecord {
  outRefundNo: string;
  refundId: string;
  refundFee: number;
  status: V2RefundStatus;
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time, when SUCCESS. */
  successTime?: string;
}

export interface RefundQueryResult {
  refunds: RefundRecord[];
  /** All refunds of the order; more than `refunds.length` means: query again with `offset`. */
  totalRefundCount?: number;
  fields: Readonly<Record<string, string>>;
}

const COUNT = /^(0|[1-9][0-9]{0,2})$/;

/**
 * The typed result of `refundquery`: `refund_count` records read from the `_$n` fields.
 *
 * @example
 * toRefundQueryResult({ refund_count: '1', out_refund_no_0: 'R1', refund_id_0: '503…', refund_fee_0: '1',
 *   refund_status_0: 'SUCCESS', … }).refunds[0].status // 'SUCCESS'
 */
export function toRefundQueryResult(fields: Readonly<Record<string, string>>): RefundQueryResult {
  const what = 'refundquery';
  const countText = requireField(fields, 'refund_count', what);
  if (!COUNT.test(countText)) throw malformed(what, 'refund_count is not a count');
  const refunds: RefundRecord[] = [];
  for (let n = 0; n < Number(countText); n++) {
    refunds.push({
      outRefundNo: requireField(fields, `out_refund_no_${n}`, what),
      refundId: requireField(fields, `refund_id_${n}`, what),
      refundFee: requireFen(fields, `refund_fee_${n}`, what),
      status: toRefundStatus(fields[`refund_status_${n}`], what),
      successTime: optional(fields[`refund_success_time_${n}`]),
    });
  }
  const totalText = optional(fields.total_refund_count);
  if (totalText !== undefined && !COUNT.test(totalText))
    throw malformed(what, 'total_refund_count is not a count');
  return { refunds, totalRefundCount: totalText === undefined ? undefined : Number(totalText), fields };
}
