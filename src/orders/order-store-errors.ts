import type { Order } from './order.js';

/** Typed outcomes of the order store that callers must tell apart; each has a stable `code`. */

/** A WeChat transaction_id that already belongs to another order: one payment, one order (rule 1). */
export class TransactionIdConflictError extends Error {
  readonly code = 'TRANSACTION_ID_CONFLICT';
  constructor(
    readonly orderId: string,
    readonly transactionId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `transaction_id ${transactionId} already belongs to another order (not ${orderId}); nothing was changed`,
      options,
    );
    this.name = 'TransactionIdConflictError';
  }
}

/** markPaid on an order that is paid by a different transaction, or otherwise cannot take this payment. */
export class OrderStateConflictError extends Error {
  readonly code = 'ORDER_STATE_CONFLICT';
  constructor(
    readonly order: Order,
    readonly transactionId: string,
  ) {
    super(
      `order ${order.id} is ${order.status} with transaction_id ${order.transactionId ?? 'none'}; ` +
        `refusing to record payment ${transactionId} on it`,
    );
    this.name = 'OrderStateConflictError';
  }
}

export class OrderNotFoundError extends Error {
  readonly code = 'ORDER_NOT_FOUND';
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
    this.name = 'OrderNotFoundError';
  }
}
