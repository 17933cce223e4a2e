import { describe, expect, it } from 'vitest';
import { type Facts, type LocalOrder, violations } from './checks.js';
import { healthy, paid } from './healthy-facts.js';

/**
 * The crash checks must see a broken money rule: each case below is a database a real bug
 * would leave behind, and each must be reported (a check that cannot fail proves nothing).
 */

function withOrder(facts: Facts, order: LocalOrder): Facts {
  const orders = new Map(facts.orders);
  orders.set(order.id, order);
  return { ...facts, orders, byOutTradeNo: new Map([...orders.values()].map((o) => [o.outTradeNo, o])) };
}

describe('crash checks', () => {
  it('find nothing wrong in a database that kept every promise', () => {
    expect(violations(healthy())).toEqual([]);
  });

  it('report a notification answered SUCCESS whose order is not PAID', () => {
    const facts = withOrder(healthy(), {
      ...paid('T1', 'tx1'),
      status: 'PENDING',
      transactionId: null,
      paidEvents: [],
    });
    expect(violations(facts)).toContain('notification for T1 was answered SUCCESS but the order is PENDING');
  });

  it('report an order credited twice', () => {
    const facts = withOrder(healthy(), paid('T1', 'tx1', ['tx1', 'tx1']));
    expect(violations(facts)).toContain('T1 has 2 PAID events (tx1, tx1)');
  });

  it('report a payment WeChat took that never became PAID (a lost payment)', () => {
    const facts = healthy();
    facts.wechat.push({ out_trade_no: 'T2', trade_state: 'SUCCESS', total_fee: 100, transaction_id: 'tx2' });
    const lost = withOrder(facts, {
      ...paid('T2', 'tx2'),
      status: 'PENDING',
      transactionId: null,
      paidEvents: [],
    });
    expect(violations({ ...lost, keyOrders: new Map([...facts.keyOrders, ['k2', 'id-T2']]) })).toEqual([
      'WeChat was paid for T2 (tx2) but it is PENDING here',
    ]);
  });

  it('report a PAID order WeChat never took money for (a forged credit)', () => {
    const facts = withOrder(healthy(), paid('T3', 'tx-forged'));
    expect(violations(facts)).toContain('T3 is PAID (tx-forged) but WeChat says nothing');
  });

  it('report a 201 whose order is missing, and a retried key that made a second order', () => {
    const facts = healthy();
    facts.ledger.created.push({ key: 'k1', orderId: 'id-gone', outTradeNo: 'T9' });
    expect(violations(facts)).toEqual([
      'order id-gone was answered 201 (key k1) but does not exist',
      'key k1 first made id-gone/T9, then id-T1/T1',
    ]);
  });

  it('report a key never answered after the restart, and a WeChat order no key leads to', () => {
    const facts = healthy();
    facts.retried.set('k1', { status: 409 });
    facts.keyOrders.set('k1', null);
    expect(violations(facts)).toEqual([
      'key k1 sent again after the restart was answered 409',
      'T1 reached WeChat but no Idempotency-Key leads to it',
      'order T1 is an orphan: no Idempotency-Key leads to it',
    ]);
  });
});
