import type { IdempotencyClaim, Idempotent, IdempotentReply } from '../idempotency/idempotency.js';
import { hashRequest } from '../idempotency/request-hash.js';
import type { Order } from '../orders/order.js';
import type { Refund } from '../orders/refund.js';

export interface RefundPort {
  request(input: {
    orderId: string;
    amount: number;
    reason: string;
    requestedBy: string;
    claim?: IdempotencyClaim;
  }): Promise<{ refund: Refund; order: Order }>;
  resume(refundId: string): Promise<{ refund: Refund; order: Order }>;
  listForOrder(orderId: string): Promise<Refund[]>;
}

/**
 * A refund asked for with an Idempotency-Key: the one path of the admin route and of /v1. The
 * same key and refund replay the first answer; the refund and its key commit together, so a
 * retry after a crash finishes that refund instead of making a second one.
 */
export function refundIdempotently(
  deps: { refunds: RefundPort; idempotent: Idempotent },
  ask: { scope: string; key: string; orderId: string; amount: number; reason: string; requestedBy: string },
  view: (result: { refund: Refund; order: Order }, all: readonly Refund[]) => unknown,
): Promise<IdempotentReply> {
  const { refunds, idempotent } = deps;
  // The same fingerprint the admin route has always used, so keys stored before still match.
  const requestHash = hashRequest([ask.orderId, ask.amount, ask.reason]);
  return idempotent(ask.scope, ask.key, requestHash, async ({ claim, resumeId }) => {
    const { orderId, amount, reason, requestedBy } = ask;
    const result =
      resumeId !== null
        ? await refunds.resume(resumeId)
        : await refunds.request({ orderId, amount, reason, requestedBy, claim });
    const body = JSON.stringify(view(result, await refunds.listForOrder(result.order.id)));
    return { status: 201, body, resourceId: result.refund.id };
  });
}
