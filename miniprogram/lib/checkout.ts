/**
 * Paying for an order, as the result page needs it. The cashier's answer only says what the
 * phone saw; whether the order is paid is asked of the service:
 *
 * - `requestPayment:ok` → poll the order briefly; if no notification has reached the service
 *   yet, call `/sync` (the service queries WeChat), then poll briefly again;
 * - `requestPayment:fail cancel` → cancelled, the order stays PENDING;
 * - any other failure → failed, with WeChat's errMsg.
 *
 * @example
 * const outcome = await payOrder({ wx, api }, order, payment);
 * if (outcome.kind === 'paid') showSuccess(outcome.order);
 */
import type { Api, Order } from './api.js';
import { PAYMENT_CANCELLED, type PaymentParams, type WxError, type WxPort } from './wx-port.js';

export type CheckoutOutcome =
  | { kind: 'paid'; order: Order }
  /** The order ended another way: CLOSED, REVIEW or REFUNDED. */
  | { kind: 'ended'; order: Order }
  | { kind: 'cancelled'; order: Order }
  | { kind: 'failed'; order: Order; errMsg: string }
  /** The phone says paid, the service does not know yet; the service keeps checking. */
  | { kind: 'unconfirmed'; order: Order };

export interface Polling {
  /** Tries before asking the service to query WeChat, and tries after. */
  attempts: number;
  intervalMs: number;
}

export interface CheckoutDeps {
  wx: WxPort;
  api: Api;
  polling?: Polling;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_POLLING: Polling = { attempts: 3, intervalMs: 1000 };

export async function payOrder(
  deps: CheckoutDeps,
  order: Order,
  payment: PaymentParams,
): Promise<CheckoutOutcome> {
  const errMsg = await requestPayment(deps.wx, payment);
  if (errMsg === 'requestPayment:ok') return confirmPaid(deps, order.id);
  const latest = await deps.api.getOrder(order.id);
  if (latest.status !== 'PENDING') return settled(latest);
  return errMsg === PAYMENT_CANCELLED
    ? { kind: 'cancelled', order: latest }
    : { kind: 'failed', order: latest, errMsg };
}

/**
 * "Paid, but has the notification arrived?": poll, then `/sync`, then poll again. Never
 * concludes "paid" from anything but the order the service returns.
 */
export async function confirmPaid(deps: CheckoutDeps, orderId: string): Promise<CheckoutOutcome> {
  const { attempts, intervalMs } = deps.polling ?? DEFAULT_POLLING;
  const sleep = deps.sleep ?? defaultSleep;
  const poll = async (): Promise<Order> => {
    let order = await deps.api.getOrder(orderId);
    for (let i = 1; i < attempts && order.status === 'PENDING'; i++) {
      await sleep(intervalMs);
      order = await deps.api.getOrder(orderId);
    }
    return order;
  };
  let order = await poll();
  if (order.status !== 'PENDING') return settled(order);
  order = await deps.api.sync(orderId);
  if (order.status === 'PENDING') {
    await sleep(intervalMs);
    order = await poll();
  }
  return order.status === 'PENDING' ? { kind: 'unconfirmed', order } : settled(order);
}

function settled(order: Order): CheckoutOutcome {
  return order.status === 'PAID' ? { kind: 'paid', order } : { kind: 'ended', order };
}

/** Resolves with WeChat's errMsg either way: a cancel is an answer, not an exception. */
function requestPayment(wx: WxPort, payment: PaymentParams): Promise<string> {
  return new Promise((resolve) => {
    wx.requestPayment({
      ...payment,
      success: (res: WxError) => resolve(res.errMsg),
      fail: (err: WxError) => resolve(err.errMsg),
    });
  });
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Not a secret, only unique per tap: time plus randomness is enough here. */
export function newIdempotencyKey(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
