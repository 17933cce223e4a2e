import { AppError } from '../errors.js';
import { WechatRejectedError } from '../wechat/errors.js';
import type { Order } from './order.js';
import type { OrderServiceDeps } from './order-service.js';
import { withUpstreamRetry } from './upstream-retry.js';

/**
 * Closes at WeChat and then locally. ORDERPAID settles the order by query (it is paid);
 * ORDERCLOSED or ORDERNOTEXIST (never created there) close it locally.
 */
export async function closeAtWechat(
  order: Order,
  deps: Pick<OrderServiceDeps, 'pay' | 'orders' | 'clock' | 'settle' | 'metrics' | 'log' | 'sleep'>,
): Promise<Order> {
  try {
    await withUpstreamRetry('closeorder', () => deps.pay.close(order.outTradeNo), deps);
  } catch (err) {
    if (!(err instanceof WechatRejectedError)) {
      throw new AppError('UPSTREAM_UNAVAILABLE', 'WeChat Pay did not confirm the close; try again shortly.', {
        cause: err,
        retryAfter: 2,
      });
    }
    const code = err.failure.errCode;
    if (code === 'ORDERPAID') return deps.settle(order, 'close');
    if (code !== 'ORDERCLOSED' && code !== 'ORDERNOTEXIST') {
      throw new AppError('PAYMENT_REJECTED', `WeChat Pay refused to close the order (${code}).`, {
        cause: err,
      });
    }
  }
  // WeChat closed it, but a payment may have raced the close: ask before recording.
  try {
    const settled = await deps.settle(order, 'close');
    if (settled.status !== 'PENDING') return settled;
  } catch (err) {
    deps.log.warn({ err, outTradeNo: order.outTradeNo }, 'query after close failed; closing locally');
  }
  const closed = await deps.orders.transition(
    order.id,
    'close',
    { event: { type: 'state_changed', data: { reason: 'closed' } } },
    deps.clock.now(),
  );
  // Someone else moved it first (a notification, say): report what the database says now.
  return closed ?? (await deps.orders.findById(order.id)) ?? order;
}
