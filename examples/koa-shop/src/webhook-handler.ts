import type { Context } from 'koa';
import { verifyWebhook } from 'weapp-pay/webhooks';
import type { ShopDb } from './shop-db.js';

/** Webhook bodies are a few KB; anything far bigger is not from weapp-pay. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The exact bytes received: the signature covers them, so never a re-serialised JSON.parse. */
export async function readRawBody(ctx: Context): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * POST /webhooks/weapp-pay: verify, deduplicate by event id, mark paid and ship, in one
 * transaction. 400 for anything not signed with our secret; 2xx for everything applied or
 * already applied (a non-2xx makes weapp-pay retry for 3 days).
 */
export function webhookHandler(db: ShopDb, secret: string) {
  return async (ctx: Context) => {
    const raw = await readRawBody(ctx);
    if (!raw) return ctx.throw(413, 'body too large');
    const verified = verifyWebhook(raw, ctx.get('weapp-pay-signature'), secret, { toleranceSeconds: 300 });
    if (!verified.ok) return ctx.throw(400, verified.message);
    const event = verified.event;
    if (event.type === 'payment.succeeded') {
      const payment = event.data.object;
      const outcome = db.applyPayment({
        eventId: event.id,
        eventType: event.type,
        orderId: payment.outTradeNo,
        amountFen: payment.amount,
        paymentId: payment.id,
      });
      if (outcome === 'mismatch') console.warn(`payment ${payment.id} matches no order of ours: look at it`);
      ctx.body = { received: true, outcome };
      return;
    }
    // Events this shop does not act on are acknowledged, or they would be retried for 3 days.
    ctx.body = { received: true, outcome: 'ignored' };
  };
}
