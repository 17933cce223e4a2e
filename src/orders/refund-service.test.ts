import { describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { orderStoreFixture, T0 } from '../../test/orders/order-store-fixture.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { createOutbox } from '../webhooks/outbox.js';
import { WechatRejectedError } from '../wechat/errors.js';
import { createAnomalyStore } from './anomaly-store.js';
import type { RefundGateway, RefundSubmission } from './refund-gateway.js';
import { createRefundService } from './refund-service.js';
import { createRefundStore } from './refund-store.js';

/**
 * WeChat's refusals (NOTENOUGH, a final refusal) through the RefundGateway port, on both
 * databases (test/service/refund-err-codes.test.ts plays the same codes through the simulator): the refund keeps a state that says so and is sent
 * again with the same out_refund_no, or is closed with its amount freed and an anomaly.
 */
for (const database of testDatabases()) {
  describe(`refund service on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'rsv');
    let n = 0;

    function gatewayAnswering(answers: (string | 'accept')[]) {
      const sent: RefundSubmission[] = [];
      const gateway: RefundGateway = {
        async submit(r) {
          sent.push(r);
          const next = answers.shift() ?? 'accept';
          if (next === 'accept') return { refundId: `503${r.outRefundNo}` };
          throw new WechatRejectedError({ layer: 'result', errCode: next, message: next });
        },
        async query() {
          return undefined;
        },
      };
      const service = createRefundService({
        refunds: createRefundStore(s.handle.db, createOutbox({ livemode: false })),
        orders: s.orders,
        anomalies: createAnomalyStore(s.handle.db, createOutbox({ livemode: false })),
        gateway,
        clock: { now: () => T0 },
        log: createLogger('silent'),
        metrics: createMetrics(),
        newOutRefundNo: () => `RSV${database.name}${++n}`,
        sleep: async () => {},
      });
      return { service, sent };
    }

    async function paidOrder() {
      const order = await s.newOrder();
      await s.orders.markPaid(
        order.id,
        { transactionId: `42000RSV${database.name}${s.serial}`, paidAt: T0, source: 'notify' },
        T0,
      );
      return order;
    }

    it('keeps a NOTENOUGH refund PROCESSING with last_error, then sends it again with the same out_refund_no', async () => {
      const order = await paidOrder();
      const { service, sent } = gatewayAnswering(['NOTENOUGH']);
      const { refund } = await service.request({
        orderId: order.id,
        amount: 40,
        reason: '',
        requestedBy: 'admin',
      });
      expect(refund).toMatchObject({
        status: 'PROCESSING',
        lastError: 'NOTENOUGH',
        refundId: null,
        attempts: 1,
      });
      expect((await s.orders.findById(order.id))?.refundedAmount).toBe(40);
      const after = await service.reconcile(refund);
      expect(after).toMatchObject({
        status: 'PROCESSING',
        lastError: null,
        refundId: `503${refund.outRefundNo}`,
        attempts: 2,
      });
      expect(sent.map((r) => [r.outRefundNo, r.refundFee])).toEqual([
        [refund.outRefundNo, 40],
        [refund.outRefundNo, 40],
      ]);
      const rows = await s.handle.db
        .selectFrom('refunds')
        .selectAll()
        .where('order_id', '=', order.id)
        .execute();
      expect(rows).toHaveLength(1);
    });

    it('closes a refund WeChat refuses for good, frees its amount, leaves the order PAID and raises an anomaly', async () => {
      const order = await paidOrder();
      const { service } = gatewayAnswering(['TRADE_OVERDUE']);
      const { refund, order: after } = await service.request({
        orderId: order.id,
        amount: 100,
        reason: '',
        requestedBy: 'admin',
      });
      expect(refund).toMatchObject({ status: 'CLOSED', lastError: 'TRADE_OVERDUE' });
      expect(after).toMatchObject({ status: 'PAID', refundedAmount: 0 });
      const kinds = await s.handle.db
        .selectFrom('anomalies')
        .select(['kind', 'ref'])
        .where('order_id', '=', order.id)
        .execute();
      expect(kinds).toEqual([{ kind: 'refund_rejected', ref: refund.outRefundNo }]);
    });
  });
}
