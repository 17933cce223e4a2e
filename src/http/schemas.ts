import { Type } from '@sinclair/typebox';
import { ORDER_STATUSES } from '../orders/order.js';
import { REFUND_STATUSES } from '../orders/refund.js';

/** Shared response schemas; Fastify compiles them into fast serialisers and the OpenAPI document. */
export const ErrorResponse = Type.Object({ code: Type.String(), message: Type.String() }, { $id: undefined });

export const RefundViewSchema = Type.Object({
  outRefundNo: Type.String(),
  amount: Type.Integer({ description: 'fen' }),
  status: Type.Union(REFUND_STATUSES.map((s) => Type.Literal(s))),
  createdAt: Type.String({ format: 'date-time' }),
  settledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const OrderSchema = Type.Object({
  id: Type.String(),
  outTradeNo: Type.String(),
  sku: Type.String(),
  quantity: Type.Integer(),
  description: Type.String(),
  amount: Type.Integer({ description: 'fen' }),
  currency: Type.Literal('CNY'),
  status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s))),
  createdAt: Type.String({ format: 'date-time' }),
  paidAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
  transactionId: Type.Union([Type.String(), Type.Null()]),
  refundedAmount: Type.Integer({ description: 'fen refunded or being refunded' }),
  refunds: Type.Array(RefundViewSchema),
});

export const PaymentSchema = Type.Object(
  {
    timeStamp: Type.String(),
    nonceStr: Type.String(),
    package: Type.String(),
    signType: Type.String(),
    paySign: Type.String(),
  },
  { description: 'Exactly the parameters wx.requestPayment takes.' },
);

export const OrderIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
