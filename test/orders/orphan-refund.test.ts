/**
 * A refund request killed right after the refund's commit (before WeChat heard of it): the retry
 * with the same Idempotency-Key, once the claim is stale, must send that refund, not reserve a
 * second one. The key learns the refund in the refund's own transaction; it used to learn it only
 * when the reply was stored, so such a retry refunded twice.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { refundIdempotently } from '../../src/http/refund-request.js';
import { createIdempotency, IN_FLIGHT_STALE_MS } from '../../src/idempotency/idempotency.js';
import { createIdempotencyStore } from '../../src/idempotency/idempotency-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createAnomalyStore } from '../../src/orders/anomaly-store.js';
import type { RefundGateway } from '../../src/orders/refund-gateway.js';
import { createRefundService } from '../../src/orders/refund-service.js';
import { createRefundStore } from '../../src/orders/refund-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { testDatabases } from '../db/dialects.js';
import { orderStoreFixture, T0 } from './order-store-fixture.js';

for (const database of testDatabases()) {
  describe(`a refund request killed right after the refund's commit, on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'orf');

    function instance(clock: ReturnType<typeof createManualClock>, dieAfterCommit: boolean) {
      const sent: string[] = [];
      const gateway: RefundGateway = {
        async submit(r) {
          // SIGKILL here: the refund is committed and WeChat never hears of it from this process.
          if (dieAfterCommit) await new Promise(() => {});
          sent.push(r.outRefundNo);
          return { refundId: `503${r.outRefundNo}` };
        },
        query: async () => undefined,
      };
      let serial = 0;
      const refunds = createRefundService({
        refunds: createRefundStore(s.handle.db, createOutbox({ livemode: false })),
        orders: s.orders,
        anomalies: createAnomalyStore(s.handle.db, createOutbox({ livemode: false })),
        gateway,
        clock,
        log: createLogger('silent'),
        metrics: createMetrics(),
        newOutRefundNo: () => `ORF${database.name}${dieAfterCommit ? 'a' : 'b'}${++serial}`,
        sleep: async () => {},
      });
      const idempotent = createIdempotency({ store: createIdempotencyStore(s.handle.db), clock });
      return {
        sent,
        refund: (orderId: string) =>
          refundIdempotently(
            { refunds, idempotent },
            {
              scope: 'apikey:key_test',
              key: 'refund-1',
              orderId,
              amount: 30,
              reason: '',
              requestedBy: 'apikey:key_test',
            },
            (r) => ({ id: r.refund.id }),
          ),
      };
    }

    it('sends the one refund on the retry: one refund reserved, 30 fen, not 60', async () => {
      const order = await s.newOrder();
      await s.orders.markPaid(
        order.id,
        { transactionId: `42000ORF${database.name}`, paidAt: T0, source: 'notify' },
        T0,
      );
      const clock = createManualClock(T0);
      const doomed = instance(clock, true);
      void doomed.refund(order.id);
      const refundsOf = () =>
        s.handle.db.selectFrom('refunds').select(['id', 'amount']).where('order_id', '=', order.id).execute();
      for (let i = 0; i < 400 && (await refundsOf()).length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));

      clock.advance(IN_FLIGHT_STALE_MS + 1);
      const restarted = instance(clock, false);
      const reply = await restarted.refund(order.id);

      const rows = await refundsOf();
      expect(rows).toHaveLength(1);
      expect(JSON.parse(reply.body)).toEqual({ id: rows[0]!.id });
      expect(restarted.sent).toHaveLength(1);
      expect((await s.orders.findById(order.id))?.refundedAmount).toBe(30);
    });
  });
}
