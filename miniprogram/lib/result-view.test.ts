import { describe, expect, it } from 'vitest';
import type { Order, OrderStatus } from './api.js';
import { resultView } from './result-view.js';

function order(status: OrderStatus): Order {
  return {
    id: 'o1',
    outTradeNo: 'WP0001',
    sku: 'tea',
    quantity: 1,
    description: '乌龙',
    amount: 1999,
    currency: 'CNY',
    status,
    createdAt: '2026-01-01T00:00:00.000Z',
    paidAt: status === 'PAID' ? '2026-01-01T00:00:05.000Z' : null,
    expiresAt: '2026-01-01T02:00:00.000Z',
    transactionId: status === 'PAID' ? '4200000001202601010000000001' : null,
  };
}

describe('result page wording', () => {
  it('says 支付成功 with the amount only for an order the server reports PAID', () => {
    expect(resultView({ kind: 'paid', order: order('PAID') })).toMatchObject({
      title: '支付成功',
      tone: 'ok',
      amountText: '¥19.99',
      actions: ['back'],
    });
  });

  it('never says 支付成功 while the server still has the order PENDING, whatever the phone believes', () => {
    for (const kind of ['paid', 'unconfirmed', 'ended'] as const) {
      const view = resultView({ kind, order: order('PENDING') });
      expect(view.title).toBe('暂未收到支付结果');
      expect(view.actions).toContain('check');
    }
  });

  it('offers to pay again or close after a cancel, keeping the order pending', () => {
    expect(resultView({ kind: 'cancelled', order: order('PENDING') })).toMatchObject({
      title: '已取消支付',
      statusText: '待支付',
      actions: ['payAgain', 'close', 'back'],
    });
  });

  it("shows WeChat's errMsg after a failed payment", () => {
    const view = resultView({
      kind: 'failed',
      order: order('PENDING'),
      errMsg: 'requestPayment:fail 余额不足',
    });
    expect(view).toMatchObject({ title: '支付失败', note: 'requestPayment:fail 余额不足', tone: 'bad' });
  });

  it('shows a closed order as closed even if the cashier reported success', () => {
    expect(resultView({ kind: 'paid', order: order('CLOSED') })).toMatchObject({
      title: '订单已关闭',
      actions: ['back'],
    });
  });

  it('lists each refund with its amount and state, and the total refunded', () => {
    const refunded: Order = {
      ...order('PAID'),
      status: 'PARTIALLY_REFUNDED',
      refundedAmount: 1500,
      refunds: [
        { outRefundNo: 'R1', amount: 1000, status: 'SUCCESS', createdAt: '', settledAt: '' },
        { outRefundNo: 'R2', amount: 500, status: 'PROCESSING', createdAt: '', settledAt: null },
      ],
    };
    expect(resultView({ kind: 'ended', order: refunded })).toMatchObject({
      title: '订单已部分退款',
      statusText: '已部分退款',
      refundedText: '¥15.00',
      refunds: [
        { outRefundNo: 'R1', amountText: '¥10.00', statusText: '退款成功' },
        { outRefundNo: 'R2', amountText: '¥5.00', statusText: '退款处理中' },
      ],
    });
  });

  it('shows no refund lines for an order the service lists without refunds', () => {
    expect(resultView({ kind: 'paid', order: order('PAID') })).toMatchObject({
      refundedText: '',
      refunds: [],
    });
  });
});
