/**
 * The simulator faults a chaos run injects (docs/simulator.md names each), and how they are
 * drawn. Call faults are armed as persistent rules for one call of one API (`times: 1`), so they
 * land on whichever request comes next, as real outages do; notification faults ride on the
 * payment that triggers the notification.
 */
import type { Shop } from './shop.js';

/** Faults on WeChat's answer to one call; every one leaves the outcome unknown or refused. */
const CALL_FAULTS = [
  'SYSTEMERROR',
  'HTTP_500',
  'HTML_502',
  'HANG',
  'RESET_AFTER_APPLY',
  'SLOW_RESPONSE',
  'PARTIAL_BODY',
  'BAD_SIGNATURE',
] as const;

/** The Pay APIs the service calls. */
const APIS = ['unifiedorder', 'orderquery', 'closeorder', 'refund', 'refundquery'] as const;

/** Faults on the notification of one payment: lost, repeated at once, late, or overtaken. */
const NOTIFICATION_FAULTS = ['NOTIFY_DROP', 'NOTIFY_DUPLICATE', 'DELAY', 'REORDER'] as const;

/** Arms one call fault on one API for its next call. */
export async function armCallFault(shop: Shop): Promise<void> {
  const fault = shop.rng.pick(CALL_FAULTS);
  const api = shop.rng.pick(APIS);
  // Slower than the service's timeout: it gives up and the outcome is unknown to it.
  const params = fault === 'SLOW_RESPONSE' ? { seconds: 0.6 } : undefined;
  const res = await shop.sim('/sim/faults', { fault, api, times: 1, ...(params && { params }) });
  if (res.status !== 201) throw new Error(`the simulator refused ${fault}: ${JSON.stringify(res.json)}`);
  shop.count(fault);
}

/** The headers of a payment whose notification gets a fault, or none (most payments). */
export function notificationFault(shop: Shop): Record<string, string> {
  if (!shop.rng.chance(0.4)) return {};
  const fault = shop.rng.pick(NOTIFICATION_FAULTS);
  shop.count(fault);
  const params =
    fault === 'DELAY'
      ? { seconds: shop.rng.int(5, 120) }
      : fault === 'NOTIFY_DUPLICATE'
        ? { copies: shop.rng.int(2, 4) }
        : undefined;
  return { 'x-sim-fault': fault, ...(params && { 'x-sim-fault-params': JSON.stringify(params) }) };
}

/** A failed code2Session for the next login: WeChat's −1 (busy). */
export async function armLoginFault(shop: Shop): Promise<void> {
  await shop.sim('/sim/faults', { fault: 'LOGIN_SYSTEM_ERROR', api: 'jscode2session', times: 1 });
  shop.count('LOGIN_SYSTEM_ERROR');
}

/** Every fault still armed is lifted, so the settling phase sees WeChat behave. */
export async function liftFaults(shop: Shop): Promise<void> {
  await shop.sim('/sim/faults', undefined, {}, 'DELETE');
}
