import type { ShopOrder } from './shop-db.js';

export interface WeappPayConfig {
  /** Where weapp-pay listens, e.g. http://127.0.0.1:3000 */
  url: string;
  /** `weapp-pay keys create --name shop` prints it once: wpk_… */
  apiKey: string;
}

/** What weapp-pay answers to POST /v1/payments; `requestPayment` goes to wx.requestPayment unchanged. */
export interface CreatedPayment {
  payment: { id: string; status: string; amount: number; out_trade_no: string };
  requestPayment: Record<string, string>;
}

export class WeappPayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks weapp-pay for a payment of the shop's own amount. The Idempotency-Key is derived from the
 * shop's order id, so a retry after a timeout (or a double click) gets the same payment back,
 * never a second one; the order id is also the out_trade_no WeChat sees.
 */
export async function createPayment(config: WeappPayConfig, order: ShopOrder): Promise<CreatedPayment> {
  const res = await fetch(`${config.url}/v1/payments`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${config.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `order-${order.id}`,
    },
    body: JSON.stringify({
      amount: order.amount_fen,
      description: `${order.sku} x${order.quantity}`,
      openid: order.openid,
      out_trade_no: order.id,
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as CreatedPayment & { code?: string; message?: string };
  if (res.status !== 201) {
    throw new WeappPayError(
      res.status,
      body.code ?? 'UNKNOWN',
      body.message ?? `weapp-pay answered ${res.status}`,
    );
  }
  return body;
}
