/**
 * Facts of a crash run that kept every promise: one order, paid once, acknowledged once. The
 * check tests break one thing at a time from here.
 */
import type { Facts, LocalOrder, WechatOrder } from './checks.js';
import type { Ledger } from './ledger.js';

export function paid(outTradeNo: string, transactionId: string, events = [transactionId]): LocalOrder {
  return {
    id: `id-${outTradeNo}`,
    outTradeNo,
    status: 'PAID',
    amount: 100,
    transactionId,
    paidEvents: events,
  };
}

export function healthy(): Facts {
  const order = paid('T1', 'tx1');
  const ledger: Ledger = {
    acknowledged: new Map([['T1', new Set(['tx1'])]]),
    keys: new Map([['k1', { sku: 'coffee', quantity: 1 }]]),
    created: [{ key: 'k1', orderId: order.id, outTradeNo: 'T1' }],
    refundKeys: new Map(),
    refunded: [],
    counts: { acknowledged: 1, created: 1, refunded: 0, refundNotified: 0 },
  };
  const wechat: WechatOrder[] = [
    { out_trade_no: 'T1', trade_state: 'SUCCESS', total_fee: 100, transaction_id: 'tx1' },
  ];
  return {
    ledger,
    retried: new Map([['k1', { status: 201, orderId: order.id, outTradeNo: 'T1' }]]),
    orders: new Map([[order.id, order]]),
    byOutTradeNo: new Map([['T1', order]]),
    wechat,
    keyOrders: new Map([['k1', order.id]]),
    refunds: [],
    refundKeyTargets: new Map(),
    retriedRefunds: new Map(),
    invariants: [],
  };
}
