/**
 * `weapp-pay/wechat`: the WeChat protocol layer on its own (no Fastify, no SQL).
 *
 * Version-neutral pieces (errors, transport, login) are exported flat. API v2 is exported both
 * as the `v2` namespace (`v2.verifyPaymentNotification`) and flat, for the callers written when v2
 * was the only version; API v3 only as the `v3` namespace (`v3.verifyV3Notification`), so the
 * flat names stay v2's.
 */
export * from './errors.js';
export * from './login/code2session.js';
export * from './transport.js';
export * as v2 from './v2/index.js';
export * from './v2/index.js';
export * as v3 from './v3/index.js';
