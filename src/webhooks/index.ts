/**
 * `weapp-pay/webhooks`: what a shop's backend needs to receive weapp-pay's webhooks. No Fastify,
 * no SQL: verify the `Weapp-Pay-Signature` header over the raw body, then switch on the typed
 * event.
 *
 * @example
 * import { verifyWebhook } from 'weapp-pay/webhooks';
 * const result = verifyWebhook(rawBody, req.headers['weapp-pay-signature'], secret, { toleranceSeconds: 300 });
 * if (result.ok && result.event.type === 'payment.succeeded') markPaid(result.event.data.object.outTradeNo);
 */
export * from './event-types.js';
export {
  SIGNATURE_HEADER,
  signatureHeader,
  signedPayload,
  type VerifyOptions,
  verifyWebhook,
  type WebhookVerifyFailure,
  type WebhookVerifyResult,
  webhookSignature,
} from './signature.js';
