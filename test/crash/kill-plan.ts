/**
 * When a kill lands. Counted moments are measured from the moment the kill is armed, and the
 * SIGKILL is sent from inside the relay's tap, synchronously: "after the 3rd SUCCESS" means the
 * instance dies while that reply is still on its way to WeChat and its neighbours are
 * mid-transaction.
 */
import type { Prng } from './prng.js';
import type { ServiceProcess } from './service-process.js';
import type { World } from './world.js';

export type KillMoment =
  /** Right after the service answered SUCCESS to the count-th notification. */
  | { after: 'acknowledged'; count: number }
  /** Right after the service answered 201 to the count-th order creation. */
  | { after: 'created'; count: number }
  /** Right after the service answered 201 to the count-th refund. */
  | { after: 'refunded'; count: number }
  /** Right after the service answered SUCCESS to the count-th refund notification. */
  | { after: 'refundNotified'; count: number }
  /** While the count-th unifiedorder is at WeChat: it applies there, the answer is lost. */
  | { after: 'unifiedorder'; count: number }
  /** While the count-th refund call is at WeChat: WeChat accepts it, the answer is lost. */
  | { after: 'refund'; count: number }
  /** As the shop's receiver gets the count-th webhook POST, before it answers 200. */
  | { after: 'delivered'; count: number }
  /** After a delay, wherever the service happens to be. */
  | { after: 'ms'; ms: number };

export function describeMoment(moment: KillMoment): string {
  return moment.after === 'ms' ? `${moment.ms} ms in` : `after ${moment.after} #${moment.count}`;
}

/** The WeChat call a kill can catch in flight. */
const WECHAT_PATHS = { unifiedorder: '/pay/unifiedorder', refund: '/secapi/pay/refund' } as const;

/** A moment among those `kinds` can produce, counts up to `events`. */
export function drawMoment(rng: Prng, kinds: readonly KillMoment['after'][], events: number): KillMoment {
  const after = rng.pick(kinds);
  return after === 'ms' ? { after, ms: rng.int(0, 300) } : { after, count: rng.int(1, events) };
}

/**
 * Arms a kill of `victim` at `moment`. `fired` resolves true once the process is dead, or false
 * when `disarm()` came first (the load ended before the moment).
 */
export function armKill(world: World, victim: ServiceProcess, moment: KillMoment) {
  let armed = true;
  let settle: (fired: boolean) => void = () => {};
  const fired = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const fire = () => {
    if (!armed) return;
    armed = false;
    void world.kill(victim).then(() => settle(true));
  };
  const start = { ...world.ledger.counts };
  let calls = 0;
  if (moment.after === 'ms') {
    setTimeout(fire, moment.ms);
  } else if (moment.after === 'unifiedorder' || moment.after === 'refund') {
    const path = WECHAT_PATHS[moment.after];
    world.wechat.onRequest((p) => {
      if (p === path && ++calls === moment.count) fire();
    });
  } else if (moment.after === 'delivered') {
    world.webhooks?.onReceived(() => {
      if (++calls === moment.count) fire();
    });
  } else {
    const which = moment.after;
    world.door.onExchange(() => {
      if (world.ledger.counts[which] - start[which] >= moment.count) fire();
    });
  }
  return {
    fired,
    disarm() {
      if (!armed) return;
      armed = false;
      settle(false);
    },
  };
}
