import { Type } from '@sinclair/typebox';
import { ORDER_STATUSES } from '../orders/order.js';
import { REFUND_STATUSES } from '../orders/refund.js';
import {
  ATTACH_MAX_BYTES,
  DESCRIPTION_MAX_BYTES,
  EXPIRES_IN_MAX_SECONDS,
  EXPIRES_IN_MIN_SECONDS,
  METADATA_MAX_KEYS,
  METADATA_VALUE_MAX,
} from '../payments/new-payment.js';
import { PaymentSchema } from './schemas.js';

const Time = Type.String({ format: 'date-time' });
const MaybeTime = Type.Union([Time, Type.Null()]);
const MaybeText = Type.Union([Type.String(), Type.Null()]);

/** The /v1 refund object (src/payments/payment-object.ts). */
export const RefundObjectSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  payment_id: Type.String(),
  out_refund_no: Type.String(),
  amount: Type.Integer({ description: 'fen' }),
  reason: Type.String(),
  status: Type.Union(REFUND_STATUSES.map((s) => Type.Literal(s))),
  refund_id: Type.Union([Type.String(), Type.Null()], { description: "WeChat's refund_id once accepted" }),
  last_error: Type.Union([Type.String(), Type.Null()], {
    description: 'Why WeChat has not settled it yet (NOTENOUGH, a timeout…) or why it was refused',
  }),
  created_at: Time,
  settled_at: MaybeTime,
});

/** The /v1 payment object (src/payments/payment-object.ts). */
export const PaymentObjectSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment'),
    amount: Type.Integer({ description: 'fen' }),
    currency: Type.Literal('CNY'),
    description: Type.String(),
    status: Type.Union(
      ORDER_STATUSES.map((s) => Type.Literal(s)),
      {
        description: 'PENDING, PAID, PARTIALLY_REFUNDED, REFUNDED, CLOSED, or REVIEW (a person must look)',
      },
    ),
    out_trade_no: Type.String(),
    openid: Type.String(),
    attach: MaybeText,
    metadata: Type.Record(Type.String(), Type.String()),
    notify: MaybeText,
    transaction_id: Type.Union([Type.String(), Type.Null()], { description: "WeChat's, once paid" }),
    refunded_amount: Type.Integer({ description: 'fen refunded or being refunded' }),
    refunds: Type.Array(RefundObjectSchema),
    created_at: Time,
    paid_at: MaybeTime,
    expires_at: Time,
    api_key_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The key that created it; null for orders from the mini program catalogue',
    }),
  },
  { description: 'A payment: every order, whether a /v1 call or the mini program made it.' },
);

export const NewPaymentSchema = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'fen, 1 to MAX_ORDER_AMOUNT_FEN' }),
  description: Type.String({
    minLength: 1,
    maxLength: DESCRIPTION_MAX_BYTES,
    description: `Shown to the payer; at most ${DESCRIPTION_MAX_BYTES} UTF-8 bytes`,
  }),
  openid: Type.String({
    pattern: '^[A-Za-z0-9_-]{1,128}$',
    description: "The payer's openid for this appid",
  }),
  out_trade_no: Type.Optional(
    Type.String({ description: "The shop's own: 6-32 of [A-Za-z0-9_-*] (and | on API v2), unique" }),
  ),
  attach: Type.Optional(
    Type.String({
      maxLength: ATTACH_MAX_BYTES,
      description: `Echoed by WeChat; at most ${ATTACH_MAX_BYTES} bytes`,
    }),
  ),
  metadata: Type.Optional(
    Type.Record(Type.String(), Type.String({ maxLength: METADATA_VALUE_MAX }), {
      maxProperties: METADATA_MAX_KEYS,
      description: `Kept and returned: at most ${METADATA_MAX_KEYS} string values, keys up to 40 characters`,
    }),
  ),
  expires_in: Type.Optional(
    Type.Integer({
      minimum: EXPIRES_IN_MIN_SECONDS,
      maximum: EXPIRES_IN_MAX_SECONDS,
      description: 'Seconds the payer has to pay; ORDER_TTL_SECONDS by default',
    }),
  ),
  notify: Type.Optional(
    Type.String({ maxLength: 2048, description: 'An http(s) URL to tell about this payment' }),
  ),
});

export const CreatedPaymentSchema = Type.Object({
  payment: PaymentObjectSchema,
  requestPayment: PaymentSchema,
});
