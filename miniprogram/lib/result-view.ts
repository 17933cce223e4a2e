/**
 * What the result page says for an outcome. "支付成功" comes only from an order the service
 * reported as PAID; everything the phone alone knows (cancelled, failed, "I paid") leaves the
 * order pending.
 *
 * @example
 * resultView({ kind: 'cancelled', order }).title; // '已取消支付'
 */
import type { Order, OrderStatus, RefundStatus } from './api.js';
import type { CheckoutOutcome } from './checkout.js';
import { formatFen } from './money.js';

export type ResultAction = 'check' | 'payAgain' | 'close' | 'back';

export interface RefundLine {
  outRefundNo: string;
  amountText: string;
  statusText: string;
}

export interface ResultView {
  tone: 'ok' | 'warn' | 'bad' | 'muted';
  title: string;
  note: string;
  amountText: string;
  statusText: string;
  actions: ResultAction[];
  /** '' when nothing was refunded; otherwise "¥x.xx" refunded or being refunded. */
  refundedText: string;
  refunds: RefundLine[];
}

const STATUS_TEXT: Record<OrderStatus, string> = {
  PENDING: '待支付',
  PAID: '已支付',
  PARTIALLY_REFUNDED: '已部分退款',
  CLOSED: '已关闭',
  REFUNDED: '已退款',
  REVIEW: '待核查',
};

const REFUND_STATUS_TEXT: Record<RefundStatus, string> = {
  PROCESSING: '退款处理中',
  SUCCESS: '退款成功',
  CHANGE: '退款异常，请联系商家',
  CLOSED: '退款已关闭',
};

export function resultView(outcome: CheckoutOutcome): ResultView {
  const { order } = outcome;
  const base = {
    amountText: formatFen(order.amount),
    statusText: STATUS_TEXT[order.status],
    ...refundLines(order),
  };
  // The server's status wins over whatever the phone believes happened.
  if (order.status === 'PAID') {
    return {
      ...base,
      tone: 'ok',
      title: '支付成功',
      note: `微信支付单号 ${order.transactionId ?? ''}`,
      actions: ['back'],
    };
  }
  if (order.status !== 'PENDING') {
    return { ...base, tone: 'muted', title: `订单${STATUS_TEXT[order.status]}`, note: '', actions: ['back'] };
  }
  switch (outcome.kind) {
    case 'cancelled':
      return {
        ...base,
        tone: 'warn',
        title: '已取消支付',
        note: '订单仍为待支付，可以继续支付或关闭订单。',
        actions: ['payAgain', 'close', 'back'],
      };
    case 'failed':
      return {
        ...base,
        tone: 'bad',
        title: '支付失败',
        note: outcome.errMsg,
        actions: ['payAgain', 'close', 'back'],
      };
    case 'unconfirmed':
    case 'paid':
    case 'ended':
      return {
        ...base,
        tone: 'warn',
        title: '暂未收到支付结果',
        note: '如果已经付款，请点“我已支付，查询结果”；服务端也会定时向微信核对。',
        actions: ['check', 'back'],
      };
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

/** The refunds the service lists for the order, in words; none for a service without refunds. */
function refundLines(order: Order): Pick<ResultView, 'refundedText' | 'refunds'> {
  const refunds = order.refunds ?? [];
  return {
    refundedText: refunds.length > 0 ? formatFen(order.refundedAmount ?? 0) : '',
    refunds: refunds.map((r) => ({
      outRefundNo: r.outRefundNo,
      amountText: formatFen(r.amount),
      statusText: REFUND_STATUS_TEXT[r.status],
    })),
  };
}
