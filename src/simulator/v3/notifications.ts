import { randomUUID } from 'node:crypto';
import { buildV3Notification } from '../../wechat/v3/notify.js';
import type { SimBehaviour, SimLogger } from '../config.js';
import type { SimClock } from '../sim-clock.js';
import type { SimOrder, SimRefund, SimState } from '../state.js';
import { nonceOf } from './endpoint.js';
import type { PlatformKeys } from './platform-keys.js';
import { refundResourceOf, rfc3339, transactionOf, V3_REFUND_STATUS } from './resources.js';

/**
 * The v3 notifications (《支付通知》, 《退款结果通知》) of orders and refunds
 * made through v3. The body (id, create_time, the encrypted resource) is fixed when the event
 * happens, so every retry carries the same `id`; the `Wechatpay-*` headers are signed afresh for
 * each attempt, with the key the mode picks, so a late retry is still inside the 5-minute window.
 */

export interface V3Message {
  body: string;
  headers: Record<string, string>;
  /** The resource before encryption, shown at /sim/notifications (the browser demo's timeline). */
  resource?: object;
}

/** Renders one attempt of a notification. */
export type V3Renderer = () => Promise<V3Message>;

export interface V3Notifications {
  payment(order: SimOrder): V3Renderer | undefined;
  refund(order: SimOrder, refund: SimRefund): V3Renderer | undefined;
}

const REFUND_EVENTS = {
  SUCCESS: ['REFUND.SUCCESS', '退款成功'],
  ABNORMAL: ['REFUND.ABNORMAL', '退款异常'],
  CLOSED: ['REFUND.CLOSED', '退款关闭'],
  PROCESSING: ['REFUND.SUCCESS', '退款成功'],
} as const;

export function createV3Notifications(deps: {
  state: SimState;
  clock: SimClock;
  behaviour: SimBehaviour;
  keys: PlatformKeys;
  log: SimLogger;
}): V3Notifications {
  const { state, clock, keys, log } = deps;

  function renderer(
    mchId: string,
    event: { eventType: string; summary: string; originalType: string; resource: object },
  ): V3Renderer | undefined {
    const apiV3Key = state.merchants.get(mchId)?.apiV3Key;
    if (!apiV3Key) {
      log.warn(`merchant ${mchId} has no apiV3Key: its v3 notification cannot be encrypted and is not sent`);
      return undefined;
    }
    const id = randomUUID();
    const createTime = rfc3339(clock.now());
    const nonce = nonceOf(12);
    return async () => {
      await keys.ready();
      const message = buildV3Notification({
        id,
        createTime,
        eventType: event.eventType,
        summary: event.summary,
        originalType: event.originalType,
        associatedData: event.originalType,
        resource: event.resource,
        apiV3Key,
        nonce,
        signer: keys.notificationSigner(),
        timestamp: Math.floor(clock.now() / 1000),
        signatureNonce: nonceOf(32),
      });
      return { ...message, resource: event.resource };
    };
  }

  return {
    payment(order) {
      return renderer(order.mchId, {
        eventType: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: 'transaction',
        resource: transactionOf(order, clock.now(), deps.behaviour),
      });
    },
    refund(order, refund) {
      const [eventType, summary] = REFUND_EVENTS[V3_REFUND_STATUS[refund.status]];
      return renderer(order.mchId, {
        eventType,
        summary,
        originalType: 'refund',
        resource: refundResourceOf(order, refund),
      });
    },
  };
}
