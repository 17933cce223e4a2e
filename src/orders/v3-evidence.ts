import type { V3Transaction } from '../wechat/v3/responses.js';
import type { PaymentEvidence } from './decide.js';

/**
 * A verified v3 transaction (a decrypted notification resource, or an order query answer) as
 * version-neutral evidence, judged by decide.ts exactly as v2's is. `amount.total` is the order
 * amount; `payer_total` is what the payer paid after coupons (v2's cash_fee).
 *
 * @example
 * evidenceFromV3Transaction({ appid, mchid, out_trade_no: 'ORDER_1', transaction_id: '42…',
 *   trade_state: 'SUCCESS', success_time: '2024-01-01T12:05:30+08:00',
 *   amount: { total: 1, payer_total: 1, currency: 'CNY' } }, 'notification')
 * // { source: 'notification', outTradeNo: 'ORDER_1', totalFee: 1, currency: 'CNY', paidAt: 1704081930000, … }
 */
export function evidenceFromV3Transaction(
  t: V3Transaction,
  source: PaymentEvidence['source'],
): PaymentEvidence {
  const paidAt = t.success_time === undefined ? Number.NaN : Date.parse(t.success_time);
  return {
    source,
    outTradeNo: t.out_trade_no,
    transactionId: t.transaction_id ?? '',
    totalFee: t.amount?.total ?? -1,
    currency: t.amount?.currency ?? 'CNY',
    appid: t.appid,
    mchId: t.mchid,
    paidAt: Number.isFinite(paidAt) ? paidAt : null,
    ...(t.amount?.payer_total !== undefined && { cashFee: t.amount.payer_total }),
    raw: flatten(t),
  };
}

/** `{ amount: { total: 1 } }` → `{ 'amount.total': '1' }`: evidence keeps fields as flat strings. */
function flatten(value: object, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, inner] of Object.entries(value)) {
    const name = prefix + key;
    if (inner !== null && typeof inner === 'object') flatten(inner, `${name}.`, out);
    else if (inner !== undefined) out[name] = String(inner);
  }
  return out;
}
