import type { SimBehaviour } from './config.js';
import type { SimOrder, TradeState } from './state.js';

/** WeChat's `trade_state_desc` texts. */
export const TRADE_STATE_DESC: Readonly<Record<TradeState, string>> = {
  NOTPAY: '订单未支付',
  USERPAYING: '需要用户输入支付密码',
  SUCCESS: '支付成功',
  REFUND: '订单发生过退款',
  CLOSED: '订单已关闭',
  PAYERROR: '支付失败，请重新下单支付',
};

const DAY_MS = 24 * 3600 * 1000;

/**
 * When the order stops being payable: its `time_expire`, or `orderLifetimeDays` after it was
 * placed when it has none (7 days by default, as 《JSAPI下单》 says for v3; v2 does not say).
 */
export function payableUntil(order: SimOrder, behaviour: SimBehaviour): number {
  return order.timeExpire ?? order.createdAt + behaviour.orderLifetimeDays * DAY_MS;
}

/** Has the order's `time_expire` (or its lifetime) passed? */
export function isExpired(order: SimOrder, now: number, behaviour: SimBehaviour): boolean {
  return now >= payableUntil(order, behaviour);
}

/**
 * The order's state as WeChat would report it now. An unpaid order past `time_expire` stays
 * NOTPAY by default (it just cannot be paid any more); with `expiredOrderState: 'CLOSED'` it
 * is closed the first time anyone looks.
 */
export function currentState(order: SimOrder, now: number, behaviour: SimBehaviour): TradeState {
  if (
    behaviour.expiredOrderState === 'CLOSED' &&
    (order.state === 'NOTPAY' || order.state === 'USERPAYING') &&
    isExpired(order, now, behaviour)
  ) {
    order.state = 'CLOSED';
  }
  return order.state;
}

/** Is the prepay_id issued at `issuedAt` still usable? (2 hours at WeChat.) */
export function isPrepayLive(issuedAt: number, now: number, behaviour: SimBehaviour): boolean {
  return now < issuedAt + behaviour.prepayLifetimeSeconds * 1000;
}

/**
 * Fields that may differ between two calls for the same order. WeChat lets `nonce_str` and
 * `spbill_create_ip` change (the user may have changed network); `sign` and `sign_type` describe
 * the message, not the order, so a retry signed with the other algorithm is the same order.
 */
const VOLATILE = new Set(['nonce_str', 'spbill_create_ip', 'sign', 'sign_type']);

/**
 * The part of a unifiedorder request that re-entry must repeat exactly: every other field, an
 * optional one included (adding, dropping or changing it is a change). An empty field counts as
 * absent, as in the signature. Whether `time_expire` may move is the caller's decision.
 */
export function reentryParams(fields: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (VOLATILE.has(k) || v === '') continue;
    out[k] = v;
  }
  return out;
}

/** Names of the fields that differ, for the error message. */
export function changedFields(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((k) => a[k] !== b[k]).sort();
}
