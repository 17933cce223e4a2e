/**
 * What the outside world was told, read off the service's relay: every notification the
 * service answered SUCCESS (and the transaction it named), every 201 it answered to an order
 * creation or a refund (and the Idempotency-Key it answered). The drivers add what they sent. The
 * checks then hold the database to each of these promises.
 */
import { isSuccessfulNotifyReply } from '../../src/wechat/v2/notify.js';
import { parseXml } from '../../src/wechat/v2/xml.js';
import type { Relay } from './relay.js';

export interface CreatedAnswer {
  key: string;
  orderId: string;
  outTradeNo: string;
}

export interface RefundAnswer {
  key: string;
  orderId: string;
  outRefundNo: string;
  amount: number;
}

/** Paths of the admin's refund route: `/admin/orders/<id>/refunds`. */
const REFUND_PATH = /^\/admin\/orders\/([^/?]+)\/refunds$/;

export interface Ledger {
  /** Notifications answered SUCCESS: out_trade_no → every transaction_id so acknowledged. */
  acknowledged: Map<string, Set<string>>;
  /** Every Idempotency-Key sent, with its body. */
  keys: Map<string, { sku: string; quantity: number }>;
  /** Every 201 answered to POST /api/orders, oldest first. */
  created: CreatedAnswer[];
  /** Every refund Idempotency-Key the admin sent, with its order and body. */
  refundKeys: Map<string, { orderId: string; amount: number; reason: string }>;
  /** Every 201 answered to POST /admin/orders/:id/refunds, oldest first. */
  refunded: RefundAnswer[];
  /** Counts since the run began, for kill triggers. */
  counts: { acknowledged: number; created: number; refunded: number; refundNotified: number };
}

export function createLedger(door: Relay): Ledger {
  return tapLedger(door).ledger;
}

/** A ledger fed by `door` until `detach()`: a relay that outlives one run serves the next. */
export function tapLedger(door: Relay): { ledger: Ledger; detach(): void } {
  const ledger: Ledger = {
    acknowledged: new Map(),
    keys: new Map(),
    created: [],
    refundKeys: new Map(),
    refunded: [],
    counts: { acknowledged: 0, created: 0, refunded: 0, refundNotified: 0 },
  };
  const detach = door.onExchange((x) => {
    if (x.method !== 'POST') return;
    if (x.path === '/payment/wxnotify' && isSuccessfulNotifyReply(x.status, x.body)) {
      const fields = parseXml(x.requestBody);
      const outTradeNo = fields.out_trade_no as string;
      const seen = ledger.acknowledged.get(outTradeNo) ?? new Set<string>();
      seen.add(fields.transaction_id as string);
      ledger.acknowledged.set(outTradeNo, seen);
      ledger.counts.acknowledged++;
    } else if (x.path === '/api/orders' && x.status === 201) {
      const { order } = JSON.parse(x.body) as { order: { id: string; outTradeNo: string } };
      const key = x.requestHeaders['idempotency-key'];
      if (typeof key !== 'string') return;
      ledger.created.push({ key, orderId: order.id, outTradeNo: order.outTradeNo });
      ledger.counts.created++;
    } else if (x.path === '/payment/refundnotify' && isSuccessfulNotifyReply(x.status, x.body)) {
      ledger.counts.refundNotified++;
    } else if (x.status === 201 && REFUND_PATH.test(x.path)) {
      const { refund } = JSON.parse(x.body) as { refund: { outRefundNo: string; amount: number } };
      const key = x.requestHeaders['idempotency-key'];
      if (typeof key !== 'string') return;
      const orderId = decodeURIComponent(REFUND_PATH.exec(x.path)?.[1] ?? '');
      ledger.refunded.push({ key, orderId, outRefundNo: refund.outRefundNo, amount: refund.amount });
      ledger.counts.refunded++;
    }
  });
  return { ledger, detach };
}
