import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { verifyV3Notification } from '../wechat/v3/notify.js';
import { toV3RefundResource, toV3Transaction } from '../wechat/v3/responses.js';
import type { V3KeyResolver } from '../wechat/v3/sign.js';
import type { NotificationLog } from './notification-log.js';
import type { NotifiedRefundOutcome, SettleNotifiedRefund } from './notified-refund.js';
import type { NotifiedOutcome, SettleNotified } from './notified-settlement.js';
import type { OrderStorePort } from './ports.js';
import { fromV3RefundStatus } from './refund-gateway-v3.js';
import { evidenceFromV3Transaction } from './v3-evidence.js';

export interface NotifyV3Deps {
  orders: Pick<OrderStorePort, 'findForNotification'>;
  settleNotified: SettleNotified;
  settleNotifiedRefund: SettleNotifiedRefund;
  notifications: Pick<NotificationLog, 'has' | 'record'>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  keys: V3KeyResolver;
  /**
   * Downloads platform certificates when a notification names a serial we do not know (a
   * rotation, or the public-key migration); resolves true when the key store changed. It rate
   * limits itself: a forger's made-up serials cannot turn into a download each.
   */
  refreshKeys?: (serial: string) => Promise<boolean>;
  settings: { mchId: string; apiV3Key: string };
}

const REFUSALS: Record<Exclude<NotifiedOutcome, { ok: true }>['outcome'], () => AppError> = {
  wrong_merchant: () =>
    new AppError('NOTIFICATION_MISMATCH', 'The notification names another merchant or appid.'),
  amount_mismatch: () =>
    new AppError(
      'NOTIFICATION_MISMATCH',
      'The amount or currency differs from the order; flagged for review.',
    ),
  unknown_order: () => new AppError('ORDER_NOT_FOUND', 'No such order.'),
  conflict: () =>
    new AppError(
      'NOTIFICATION_CONFLICT',
      'Another payment is already recorded for this order or transaction.',
    ),
};

const REFUND_REFUSALS: Record<Exclude<NotifiedRefundOutcome, { ok: true }>['outcome'], () => AppError> = {
  unknown_refund: () => new AppError('REFUND_NOT_FOUND', 'No such refund.'),
  mismatch: () =>
    new AppError(
      'NOTIFICATION_MISMATCH',
      'The refund amount or order differs from the refund we saved; flagged for review.',
    ),
};

/**
 * Handles WeChat's API v3 notification (`POST /payment/wxnotify/v3`), safe by default:
 * the `Wechatpay-*` headers and signature over the raw body (timestamp within five minutes
 * either way, a known serial) → AES-256-GCM decryption with the APIv3 key → an id already
 * handled is a duplicate → then, by event type:
 * - `TRANSACTION.SUCCESS`: notified-settlement.ts, the same checks and the same single
 *   conditional update as v2's payment notification;
 * - `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`: our `mchid`, then notified-refund.ts,
 *   the same path as v2's refund notification (a refund we saved, its amount and order, one
 *   conditional update out of PROCESSING);
 * → the id is recorded. Resolves only once that has committed; the route then answers 204.
 * Every refusal is an AppError (4xx), so WeChat retries.
 */
export function createNotifyV3Service(deps: NotifyV3Deps) {
  const { clock, log, metrics, settings } = deps;

  function refuse(outcome: string, err: AppError): never {
    metrics.notification(outcome);
    throw err;
  }

  async function verify(raw: Buffer, headers: IncomingHttpHeaders) {
    const check = () =>
      verifyV3Notification(raw, {
        headers,
        keys: deps.keys,
        apiV3Key: settings.apiV3Key,
        nowSeconds: Math.floor(clock.now() / 1000),
      });
    const first = check();
    if (first.ok || first.reason !== 'UNKNOWN_SERIAL' || !deps.refreshKeys) return first;
    const serial = String(headers['wechatpay-serial'] ?? '');
    return (await deps.refreshKeys(serial)) ? check() : first;
  }

  return async function handle(raw: Buffer, headers: IncomingHttpHeaders): Promise<V3NotifyHandled> {
    const verified = await verify(raw, headers);
    if (!verified.ok) {
      switch (verified.reason) {
        case 'SIGN_PROBE':
          // WeChat (or a merchant tool) checking that we verify signatures: a 4xx is the right answer.
          log.info({ probe: true }, 'signature probe (WECHATPAY/SIGNTEST/) on the v3 notification; refused');
          return refuse(
            'probe',
            new AppError('NOTIFICATION_PROBE', 'Signature probe received; refused as it should be.'),
          );
        case 'DECRYPT_FAILED':
          // A valid signature with a resource we cannot open: most likely a wrong WECHAT_API_V3_KEY.
          log.error(
            { reason: verified.reason },
            'signed v3 notification does not decrypt; check WECHAT_API_V3_KEY',
          );
          return refuse(
            'malformed',
            new AppError('NOTIFICATION_MALFORMED', 'The resource does not decrypt.'),
          );
        case 'MALFORMED':
          log.warn({ reason: verified.reason }, 'v3 notification is not the JSON WeChat sends; refused');
          return refuse(
            'malformed',
            new AppError('NOTIFICATION_MALFORMED', 'The notification body is malformed.'),
          );
        case 'MISSING_HEADERS':
        case 'TIMESTAMP_OUT_OF_WINDOW':
        case 'UNKNOWN_SERIAL':
        case 'BAD_SIGNATURE':
          log.warn({ reason: verified.reason }, 'v3 notification rejected before trusting any field');
          return refuse(
            'bad_signature',
            new AppError('NOTIFICATION_UNVERIFIED', `The notification does not verify (${verified.reason}).`),
          );
        default: {
          const unreachable: never = verified.reason;
          throw new Error(`unhandled verification failure ${String(unreachable)}`);
        }
      }
    }

    const { notification, resource } = verified;
    if (await deps.notifications.has(notification.id)) {
      metrics.notification('duplicate');
      return { outcome: 'duplicate' };
    }
    const now = clock.now();

    if (notification.event_type.startsWith('REFUND.')) {
      const refund = toV3RefundResource(resource);
      if (!refund)
        return refuse(
          'malformed',
          new AppError('NOTIFICATION_MALFORMED', 'The refund resource is malformed.'),
        );
      if (refund.mchid !== settings.mchId) return refuse('refund_wrong_merchant', REFUSALS.wrong_merchant());
      // The state is the resource's `refund_status`: it is inside the authenticated ciphertext,
      // and it is what 《退款结果通知》 defines; the event type only repeats it.
      const result = await deps.settleNotifiedRefund({
        outRefundNo: refund.out_refund_no,
        outTradeNo: refund.out_trade_no,
        refundId: refund.refund_id,
        refundFee: refund.amount.refund,
        status: fromV3RefundStatus(refund.refund_status),
      });
      if (!result.ok) return refuse(`refund_${result.outcome}`, REFUND_REFUSALS[result.outcome]());
      await deps.notifications.record(
        {
          id: notification.id,
          eventType: notification.event_type,
          outTradeNo: refund.out_trade_no,
          outcome: result.outcome === 'settled' ? 'refund_settled' : 'duplicate',
          data: { outRefundNo: refund.out_refund_no, refundStatus: refund.refund_status },
        },
        now,
      );
      metrics.notification(`refund_${result.outcome}`);
      return { outcome: `refund_${result.outcome}` };
    }

    const transaction =
      notification.event_type === 'TRANSACTION.SUCCESS' ? toV3Transaction(resource) : undefined;
    if (transaction?.trade_state !== 'SUCCESS') {
      log.warn(
        { eventType: notification.event_type },
        'v3 notification is not a successful payment; refused',
      );
      return refuse(
        'malformed',
        new AppError('NOTIFICATION_MALFORMED', 'Not a successful payment resource.'),
      );
    }
    const evidence = evidenceFromV3Transaction(transaction, 'notification');
    const seen = await deps.orders.findForNotification(evidence.outTradeNo);
    const result = await deps.settleNotified(evidence, seen);
    if (!result.ok) return refuse(result.outcome, REFUSALS[result.outcome]());
    await deps.notifications.record(
      {
        id: notification.id,
        eventType: notification.event_type,
        outTradeNo: evidence.outTradeNo,
        outcome: result.outcome,
        data: {},
      },
      now,
    );
    metrics.notification(result.outcome);
    return { outcome: result.outcome, ...(seen && { orderId: seen.id }) };
  };
}

/** What an accepted v3 notification did, for the request log; a refusal throws instead. */
export interface V3NotifyHandled {
  outcome: string;
  orderId?: string;
}

export type NotifyV3 = ReturnType<typeof createNotifyV3Service>;
