/**
 * `weapp-pay/wechat`: the WeChat protocol layer on its own (no Fastify, no SQL).
 *
 * Version-neutral pieces (errors, transport, login) are exported flat. API v2 is exported both
 * as the `v2` namespace (`v2.verifyPaymentNotification`) and flat, because v2 is the only
 * version today; when v3 lands it gets a `v3` namespace and the flat names stay v2's.
 */
export * from './errors.js';
export * from './login/code2session.js';
export * from './transport.js';
export * as v2 from './v2/index.js';
export * from './v2/index.js';
