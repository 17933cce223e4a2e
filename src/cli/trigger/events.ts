/**
 * The events `weapp-pay trigger` makes happen, each as the real sequence a shop would see: the
 * same requests, the same notifications, the same faults WeChat is known for.
 */
import type { OrderPage } from '../orders.js';
import { TriggerError } from './report.js';
import {
  type Bought,
  buy,
  notificationAttempts,
  pay,
  refundAll,
  type TriggerWorld,
  waitForAttempts,
  waitForOrder,
} from './steps.js';

export interface TriggerEvent {
  about: string;
  run(world: TriggerWorld): Promise<{ bought: Bought; page: OrderPage }>;
}

const paidHere = (p: OrderPage) => p.order.status === 'PAID';

async function paidOrder(world: TriggerWorld, fault?: string) {
  const bought = await buy(world);
  await pay(world, bought, 'SUCCESS', fault);
  const page = await waitForOrder(world, bought, paidHere, 'mark the order PAID');
  const [first] = await notificationAttempts(world, bought, 'payment');
  world.report.done(
    `the service marked the order PAID (learnt by ${page.order.paidSource})`,
    first?.http_status ? `it answered the notification with HTTP ${first.http_status}` : '',
  );
  return { bought, page };
}

async function refunded(world: TriggerWorld, finalStatus: 'SUCCESS' | 'CHANGE') {
  const { bought } = await paidOrder(world);
  if (finalStatus === 'CHANGE') {
    const fault = await world.sims.pay.post<{ id?: string; error?: string }>('/sim/faults', {
      fault: 'REFUND_ABNORMAL',
      mch_id: world.sims.wechat.mchId,
      out_trade_no: bought.outTradeNo,
      times: 1,
    });
    if (fault.status !== 201) throw new TriggerError(`the simulator refused the fault (${fault.body.error})`);
    world.report.done(
      'told the simulator to end the refund abnormally',
      `POST /sim/faults REFUND_ABNORMAL (${fault.body.id})`,
    );
  }
  await refundAll(
    world,
    bought,
    `weapp-pay trigger refund.${finalStatus === 'SUCCESS' ? 'succeeded' : 'failed'}`,
  );
  const page = await waitForOrder(
    world,
    bought,
    (p) => {
      const refund = p.refunds[0];
      if (refund?.lastError === 'CLIENT_CERT_REQUIRED') {
        return 'the service has no merchant certificate, and API v2 refunds need one: set WECHAT_MCH_CERT and WECHAT_MCH_CERT_KEY (see `weapp-pay simulate --tls-port`)';
      }
      return refund !== undefined && refund.status !== 'PROCESSING';
    },
    "learn the refund's outcome (from the refund notification or its refund reconciler)",
  );
  const refund = page.refunds[0]!;
  if (refund.status !== finalStatus) {
    throw new TriggerError(`the refund ended ${refund.status}, not ${finalStatus}`);
  }
  world.report.done(
    `the service recorded the refund as ${refund.status}`,
    `the order is now ${page.order.status}${refund.lastError ? `; last error ${refund.lastError}` : ''}`,
  );
  return { bought, page };
}

export const TRIGGER_EVENTS: Readonly<Record<string, TriggerEvent>> = {
  'payment.succeeded': {
    about: 'an order paid at the cashier; its notification marks it PAID',
    run: (world) => paidOrder(world),
  },
  'payment.failed': {
    about: 'the payment fails at the cashier (PAYERROR); the order query closes the order',
    async run(world) {
      const bought = await buy(world);
      await pay(world, bought, 'FAIL');
      // WeChat sends no notification for a failed payment: the service learns it by asking.
      await world.service.admin('POST', `/admin/orders/${encodeURIComponent(bought.orderId)}/sync`);
      const page = await waitForOrder(world, bought, (p) => p.order.status === 'CLOSED', 'close the order');
      world.report.done(
        'the service asked WeChat (orderquery: PAYERROR) and closed the order',
        'POST /admin/orders/:id/sync',
      );
      return { bought, page };
    },
  },
  'payment.closed': {
    about: 'the mini program closes an unpaid order, at WeChat and in the service',
    async run(world) {
      const bought = await buy(world);
      await world.service.call('POST', `/api/orders/${encodeURIComponent(bought.orderId)}/close`, {
        bearer: bought.token,
      });
      const page = await waitForOrder(world, bought, (p) => p.order.status === 'CLOSED', 'close the order');
      world.report.done('closed the order at WeChat and in the service', 'POST /api/orders/:id/close');
      return { bought, page };
    },
  },
  'refund.succeeded': {
    about: 'a paid order refunded in full; WeChat settles the refund',
    run: (world) => refunded(world, 'SUCCESS'),
  },
  'refund.failed': {
    about: "a paid order's refund ends abnormally at WeChat (REFUND_ABNORMAL: status CHANGE)",
    run: (world) => refunded(world, 'CHANGE'),
  },
  'notification.duplicate': {
    about: 'every delivery of the payment notification comes twice at once; the order is credited once',
    async run(world) {
      const { bought, page } = await paidOrder(world, 'NOTIFY_DUPLICATE');
      const attempts = await waitForAttempts(
        world,
        bought,
        (a) => a.filter((x) => x.status === 'delivered' || x.status === 'failed').length >= 2,
        'send both copies',
      );
      const answers = attempts.map((a) => `copy ${a.copy}: ${a.status} (HTTP ${a.http_status})`).join(', ');
      world.report.done('the simulator sent the notification twice', answers);
      return { bought, page };
    },
  },
  'notification.dropped': {
    about: 'the payment notification never arrives; the order stays PENDING until someone asks WeChat',
    async run(world) {
      const bought = await buy(world);
      await pay(world, bought, 'SUCCESS', 'NOTIFY_DROP');
      await waitForAttempts(
        world,
        bought,
        (a) => a.some((x) => x.status === 'dropped'),
        'drop the notification',
      );
      const page = await waitForOrder(world, bought, () => true, 'answer');
      world.report.done(
        'the simulator dropped the notification',
        `the service never heard of the payment: the order is ${page.order.status}`,
      );
      world.report.note(
        `The reconciler queries it after RECONCILE_AFTER_SECONDS; or now: weapp-pay orders sync ${bought.orderId}`,
      );
      return { bought, page };
    },
  },
};
