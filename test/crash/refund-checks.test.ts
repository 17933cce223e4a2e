import { describe, expect, it } from 'vitest';
import { type Facts, violations } from './checks.js';
import { healthy } from './healthy-facts.js';

/**
 * The refund checks must see a broken refund rule: each case is what a real bug would leave
 * behind (a click refunded twice, a refund left hanging, a key that finished another refund).
 */
function refunded(): Facts {
  const facts = healthy();
  const order = facts.orders.get('id-T1');
  if (order) order.status = 'PARTIALLY_REFUNDED';
  facts.wechat = [
    {
      out_trade_no: 'T1',
      trade_state: 'REFUND',
      total_fee: 100,
      transaction_id: 'tx1',
      refunds: [{ out_refund_no: 'R1', refund_id: 'wx-r1', refund_fee: 40, status: 'SUCCESS' }],
    },
  ];
  facts.refunds = [
    { id: 'rf1', orderId: 'id-T1', outRefundNo: 'R1', amount: 40, status: 'SUCCESS', refundId: 'wx-r1' },
  ];
  facts.refundKeyTargets = new Map([['rk1', 'rf1']]);
  facts.ledger.refundKeys.set('rk1', { orderId: 'id-T1', amount: 40, reason: 'r' });
  facts.ledger.refunded.push({ key: 'rk1', orderId: 'id-T1', outRefundNo: 'R1', amount: 40 });
  facts.retriedRefunds = new Map([['rk1', { status: 201, outRefundNo: 'R1' }]]);
  return facts;
}

describe('refund checks', () => {
  it('find nothing wrong after a refund that kept every promise', () => {
    expect(violations(refunded())).toEqual([]);
  });

  it('report a second refund WeChat made for one click (no key leads to it)', () => {
    const facts = refunded();
    facts.wechat[0]?.refunds?.push({
      out_refund_no: 'R2',
      refund_id: 'wx-r2',
      refund_fee: 40,
      status: 'SUCCESS',
    });
    facts.refunds.push({
      id: 'rf2',
      orderId: 'id-T1',
      outRefundNo: 'R2',
      amount: 40,
      status: 'SUCCESS',
      refundId: 'wx-r2',
    });
    expect(violations(facts)).toEqual(['R2 reached WeChat but 0 refund keys lead to it']);
  });

  it('report a refund WeChat holds that the database does not', () => {
    const facts = refunded();
    facts.wechat[0]?.refunds?.push({
      out_refund_no: 'R9',
      refund_id: 'wx-r9',
      refund_fee: 10,
      status: 'SUCCESS',
    });
    expect(violations(facts)).toEqual(['WeChat refunded R9 on T1, which is not in the database']);
  });

  it('report a refund still PROCESSING, and one settled otherwise than at WeChat', () => {
    const facts = refunded();
    facts.refunds.push({
      id: 'rf3',
      orderId: 'id-T1',
      outRefundNo: 'R3',
      amount: 5,
      status: 'PROCESSING',
      refundId: null,
    });
    const first = facts.refunds[0];
    if (first) first.status = 'CLOSED';
    expect(violations(facts)).toEqual([
      'refund R1 is CLOSED here, SUCCESS at WeChat',
      'refund R3 is still PROCESSING after settling',
    ]);
  });

  it('report a retried refund key that finished another refund, or failed', () => {
    const facts = refunded();
    facts.retriedRefunds.set('rk1', { status: 201, outRefundNo: 'R7' });
    facts.retriedRefunds.set('rk2', { status: 503 });
    expect(violations(facts)).toEqual([
      'refund key rk1 first refunded R1, then R7',
      'refund key rk2 sent again after the restart was answered 503',
    ]);
  });

  it('report a 201 refund that does not exist, and WeChat giving back more than it took', () => {
    const facts = refunded();
    facts.ledger.refunded.push({ key: 'rk5', orderId: 'id-T1', outRefundNo: 'R5', amount: 1 });
    const w = facts.wechat[0];
    if (w) w.total_fee = 30;
    const found = violations(facts);
    expect(found).toContain('refund R5 was answered 201 (key rk5) but does not exist');
    expect(found).toContain('WeChat refunded 40 fen of 30 on T1');
  });
});
