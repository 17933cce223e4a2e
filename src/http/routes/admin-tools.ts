import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiVersion } from '../../config.js';
import type { OrderService } from '../../orders/order-service.js';
import { toOrderView } from '../../orders/order-view.js';
import type { Refund } from '../../orders/refund.js';
import { AdminErrors } from '../admin-query.js';
import { OrderIdParams, OrderSchema } from '../schemas.js';

/** Where the service sends its WeChat calls: no key, secret or certificate, only addresses and ids. */
export interface WechatTarget {
  apiVersion: ApiVersion;
  appid: string;
  mchId: string;
  payBaseUrl: string;
  apiBaseUrl: string;
  notifyUrl: string;
}

export interface AdminToolDeps {
  wechat: WechatTarget;
  orders: Pick<OrderService, 'syncAny'>;
  refundsOf(orderId: string): Promise<Refund[]>;
}

/**
 * What the command line needs from a running service: which WeChat it talks to (so `weapp-pay
 * trigger` can refuse anything but the simulator) and an operator's order query.
 */
export async function adminToolRoutes(app: FastifyInstance, deps: AdminToolDeps): Promise<void> {
  app.get(
    '/admin/wechat',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'The WeChat hosts, appid and merchant id the service is configured with (no secrets)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            apiVersion: Type.Union([Type.Literal('v2'), Type.Literal('v3')]),
            appid: Type.String(),
            mchId: Type.String(),
            payBaseUrl: Type.String({ description: 'WECHAT_PAY_BASE_URL' }),
            apiBaseUrl: Type.String({ description: 'WECHAT_API_BASE_URL' }),
            notifyUrl: Type.String({ description: 'WECHAT_NOTIFY_URL' }),
          }),
          ...AdminErrors,
        },
      },
    },
    async () => deps.wechat,
  );

  app.post<{ Params: { id: string } }>(
    '/admin/orders/:id/sync',
    {
      config: { auth: 'admin' },
      schema: {
        summary:
          "Ask WeChat for a pending (or locally closed) order's state, as the mini program's /sync does; never marks PAID without WeChat's word",
        security: [{ bearer: [] }],
        params: OrderIdParams,
        response: { 200: Type.Object({ order: OrderSchema }), ...AdminErrors },
      },
    },
    async (request) => {
      const order = await deps.orders.syncAny(request.params.id);
      return { order: toOrderView(order, await deps.refundsOf(order.id)) };
    },
  );
}
