/**
 * The money rules, checked after the last restart against what the outside world was told
 * (the ledger), what WeChat knows (the simulator's orders) and what the database holds. Each
 * check returns the violations it found, in words a reader can act on; the run passes when
 * every list is empty. A new kind of traffic (refunds, webhooks) adds its own checks to CHECKS.
 */
import type { Db } from '../../src/db/database.js';
import { moneyInvariantViolations } from '../service/invariants.js';
import type { Ledger } from './ledger.js';
import { REFUND_CHECKS } from './refund-checks.js';
import { WEBHOOK_CHECKS, type WebhookFacts } from './webhook-checks.js';

export interface LocalOrder {
  id: string;
  outTradeNo: string;
  status: string;
  amount: number;
  transactionId: string | null;
  /** The transaction of each 'state_changed' event into PAID, oldest first. */
  paidEvents: string[];
}

export interface WechatOrder {
  out_trade_no: string;
  trade_state: string;
  total_fee: number;
  transaction_id: string | null;
  refunds?: WechatRefund[];
}

export interface WechatRefund {
  out_refund_no: string;
  refund_id: string;
  refund_fee: number;
  status: string;
}

/** A credited order: paid, then perhaps refunded in part or in full. */
export const CREDITED: ReadonlySet<string> = new Set(['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED']);
/** WeChat's states of an order it took money for (REFUND: a refund was asked for since). */
export const PAID_AT_WECHAT: ReadonlySet<string> = new Set(['SUCCESS', 'REFUND']);

export interface Facts {
  ledger: Ledger;
  /** The answer to the same key and body sent again after the last restart. */
  retried: Map<string, { status: number; orderId?: string; outTradeNo?: string; code?: string }>;
  orders: Map<string, LocalOrder>;
  byOutTradeNo: Map<string, LocalOrder>;
  wechat: WechatOrder[];
  /** The order each Idempotency-Key points to. */
  keyOrders: Map<string, string | null>;
  /** Every refund in the database. */
  refunds: LocalRefund[];
  /** The refund each of the admin's Idempotency-Keys points to. */
  refundKeyTargets: Map<string, string | null>;
  /** The answer to each refund key and body sent again after the last restart. */
  retriedRefunds: Map<string, { status: number; outRefundNo?: string }>;
  /** Violations found by the SQL invariants every service test runs. */
  invariants: string[];
  /** What the webhook receiver got and the outbox holds, when the run had a receiver. */
  webhooks?: WebhookFacts;
}

export interface LocalRefund {
  id: string;
  orderId: string;
  outRefundNo: string;
  amount: number;
  status: string;
  refundId: string | null;
}

export type Check = (facts: Facts) => string[];

/** Every notification answered SUCCESS is PAID, once, with the transaction it named. */
const acknowledgedNotificationsArePaid: Check = ({ ledger, byOutTradeNo }) => {
  const problems: string[] = [];
  for (const [outTradeNo, transactions] of ledger.acknowledged) {
    const order = byOutTradeNo.get(outTradeNo);
    const named = [...transactions];
    if (!order)
      problems.push(`notification for ${outTradeNo} was answered SUCCESS but the order does not exist`);
    else if (!CREDITED.has(order.status))
      problems.push(`notification for ${outTradeNo} was answered SUCCESS but the order is ${order.status}`);
    else if (named.length !== 1 || named[0] !== order.transactionId)
      problems.push(`${outTradeNo} acknowledged ${named.join(', ')} but holds ${order.transactionId}`);
    else if (order.paidEvents.length !== 1 || order.paidEvents[0] !== order.transactionId)
      problems.push(
        `${outTradeNo} has ${order.paidEvents.length} PAID events (${order.paidEvents.join(', ')})`,
      );
  }
  return problems;
};

/** Every 201 answered names an order that exists, with that out_trade_no. */
const createdOrdersExist: Check = ({ ledger, orders }) =>
  ledger.created.flatMap((c) => {
    const order = orders.get(c.orderId);
    if (!order) return [`order ${c.orderId} was answered 201 (key ${c.key}) but does not exist`];
    if (order.outTradeNo !== c.outTradeNo)
      return [`order ${c.orderId} was answered with ${c.outTradeNo} but holds ${order.outTradeNo}`];
    return [];
  });

/**
 * The same key and body sent again after the restart finishes the same order. A key never
 * answered 201 may find its order closed meanwhile (it expired unpaid): then the clear refusal
 * to resume it, 409 ORDER_NOT_PENDING, is the right answer, and nothing else.
 */
const retriedKeysFinishTheSameOrder: Check = ({ ledger, retried, keyOrders, orders }) => {
  const problems: string[] = [];
  for (const key of ledger.keys.keys()) {
    const again = retried.get(key);
    const earlier = ledger.created.filter((c) => c.key === key);
    const target = orders.get(keyOrders.get(key) ?? '');
    const expired =
      earlier.length === 0 && again?.code === 'ORDER_NOT_PENDING' && target?.status === 'CLOSED';
    if (again?.status !== 201 && !expired) {
      problems.push(`key ${key} sent again after the restart was answered ${again?.status ?? 'nothing'}`);
      continue;
    }
    for (const e of earlier) {
      if (e.orderId !== again?.orderId || e.outTradeNo !== again.outTradeNo) {
        problems.push(
          `key ${key} first made ${e.orderId}/${e.outTradeNo}, then ${again?.orderId}/${again?.outTradeNo}`,
        );
      }
    }
  }
  return problems;
};

/** Every order WeChat knows belongs to exactly one key: an interrupted key never made a second WeChat order. */
const oneWechatOrderPerKey: Check = ({ wechat, byOutTradeNo, keyOrders }) => {
  const pointedTo = new Set([...keyOrders.values()].filter((id) => id !== null));
  return wechat.flatMap((w) => {
    const order = byOutTradeNo.get(w.out_trade_no);
    if (!order) return [`WeChat has order ${w.out_trade_no}, which is not in the database`];
    if (!pointedTo.has(order.id))
      return [`${w.out_trade_no} reached WeChat but no Idempotency-Key leads to it`];
    return [];
  });
};

/**
 * Every order is the one its Idempotency-Key leads to. The key records its order in the order's
 * own commit; when that was a second write, a kill in between left an orphan order, and the
 * retry made another.
 */
const noOrphanOrders: Check = ({ orders, keyOrders }) => {
  const pointedTo = new Set(keyOrders.values());
  return [...orders.values()]
    .filter((o) => !pointedTo.has(o.id))
    .map((o) => `order ${o.outTradeNo} is an orphan: no Idempotency-Key leads to it`);
};

/** No lost payment: every order WeChat took money for is PAID here, with WeChat's transaction. */
const paidAtWechatIsPaidHere: Check = ({ wechat, byOutTradeNo }) =>
  wechat
    .filter((w) => PAID_AT_WECHAT.has(w.trade_state))
    .flatMap((w) => {
      const order = byOutTradeNo.get(w.out_trade_no);
      if (order && CREDITED.has(order.status) && order.transactionId === w.transaction_id) return [];
      return [
        `WeChat was paid for ${w.out_trade_no} (${w.transaction_id}) but it is ${order?.status ?? 'missing'} here`,
      ];
    });

/** No forged credit: every PAID order was paid at WeChat, by that transaction, for that amount. */
const paidHereWasPaidAtWechat: Check = ({ orders, wechat }) => {
  const atWechat = new Map(wechat.map((w) => [w.out_trade_no, w]));
  return [...orders.values()]
    .filter((o) => CREDITED.has(o.status))
    .flatMap((o) => {
      const w = atWechat.get(o.outTradeNo);
      if (
        w &&
        PAID_AT_WECHAT.has(w.trade_state) &&
        w.transaction_id === o.transactionId &&
        w.total_fee === o.amount
      )
        return [];
      return [
        `${o.outTradeNo} is ${o.status} (${o.transactionId}) but WeChat says ${w?.trade_state ?? 'nothing'}`,
      ];
    });
};

/** Every PAID order has its one state-change event, naming its transaction. */
const paidOrdersHaveTheirEvent: Check = ({ orders }) =>
  [...orders.values()]
    .filter(
      (o) => CREDITED.has(o.status) && (o.paidEvents.length !== 1 || o.paidEvents[0] !== o.transactionId),
    )
    .map((o) => `${o.status} order ${o.outTradeNo} has state-change events for [${o.paidEvents.join(', ')}]`);

export const CHECKS: readonly Check[] = [
  acknowledgedNotificationsArePaid,
  createdOrdersExist,
  retriedKeysFinishTheSameOrder,
  oneWechatOrderPerKey,
  noOrphanOrders,
  paidAtWechatIsPaidHere,
  paidHereWasPaidAtWechat,
  paidOrdersHaveTheirEvent,
  ...REFUND_CHECKS,
  ...WEBHOOK_CHECKS,
  ({ invariants }) => invariants,
];

/** The scope the admin's Idempotency-Keys live in (the refund route's). */
const ADMIN_SCOPE = 'admin';

/** Reads the database side of the facts. */
export async function readDatabase(db: Db) {
  const rows = await db
    .selectFrom('orders')
    .select(['id', 'out_trade_no', 'status', 'amount', 'transaction_id'])
    .execute();
  const events = await db
    .selectFrom('order_events')
    .select(['order_id', 'data'])
    .where('type', '=', 'state_changed')
    .orderBy('id')
    .execute();
  const orders = new Map<string, LocalOrder>();
  for (const r of rows) {
    orders.set(r.id, {
      id: r.id,
      outTradeNo: r.out_trade_no,
      status: r.status,
      amount: Number(r.amount),
      transactionId: r.transaction_id,
      paidEvents: [],
    });
  }
  for (const e of events) {
    const data = JSON.parse(e.data) as { to?: string; transactionId?: string };
    if (data.to === 'PAID') orders.get(e.order_id)?.paidEvents.push(data.transactionId ?? '');
  }
  const keys = await db.selectFrom('idempotency_keys').select(['scope', 'key', 'resource_id']).execute();
  const refunds = await db.selectFrom('refunds').selectAll().orderBy('created_at').execute();
  return {
    orders,
    byOutTradeNo: new Map([...orders.values()].map((o) => [o.outTradeNo, o])),
    keyOrders: new Map(keys.filter((k) => k.scope !== ADMIN_SCOPE).map((k) => [k.key, k.resource_id])),
    refundKeyTargets: new Map(keys.filter((k) => k.scope === ADMIN_SCOPE).map((k) => [k.key, k.resource_id])),
    refunds: refunds.map((r) => ({
      id: r.id,
      orderId: r.order_id,
      outRefundNo: r.out_refund_no,
      amount: Number(r.amount),
      status: r.status,
      refundId: r.refund_id,
    })),
    invariants: await moneyInvariantViolations(db),
  };
}

export function violations(facts: Facts): string[] {
  return CHECKS.flatMap((check) => check(facts));
}
