/**
 * A process killed right after it committed a new order, before anything else: the retry with
 * the same Idempotency-Key, on a restarted instance, must finish that order, not make a second.
 * Before the key learned its order in the order's own commit (it was a second write), the retry
 * found a key that led nowhere and created another order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { createManualClock } from '../../src/clock.js';
import { createIdempotency, IN_FLIGHT_STALE_MS } from '../../src/idempotency/idempotency.js';
import { createIdempotencyStore } from '../../src/idempotency/idempotency-store.js';
import { hashRequest } from '../../src/idempotency/request-hash.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createOrderService } from '../../src/orders/order-service.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import type { PaymentGateway } from '../../src/orders/ports.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';

const catalogue = parseCatalogue([{ sku: 'coffee', name: '美式咖啡', description: '', price: 1 }]);
if (!catalogue.ok) throw new Error(catalogue.problems.join('; '));

/** WeChat, as far as these tests need it: every unifiedorder request it received. */
function fakeGateway(
  prepaid: string[],
): Pick<PaymentGateway, 'prepayRequest' | 'prepay' | 'payParams' | 'close'> {
  return {
    prepayRequest: (order) => ({ outTradeNo: order.outTradeNo, totalFee: String(order.amount) }),
    async prepay(request) {
      prepaid.push(request.outTradeNo!);
      return { prepayId: `wx${request.outTradeNo}` };
    },
    payParams: (prepayId) => ({
      timeStamp: '1704081600',
      nonceStr: 'n',
      package: `prepay_id=${prepayId}`,
      signType: 'MD5',
      paySign: 's',
    }),
    close: async () => {},
  };
}

for (const database of testDatabases()) {
  describe(`an instance killed right after saving an order, on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.openMigrated();
    });
    afterAll(() => handle.close());

    /** One service instance: the engine and the order service over the shared database. */
    function instance(
      clock: ReturnType<typeof createManualClock>,
      options: { dieAfterOrderCommit: boolean },
    ) {
      const prepaid: string[] = [];
      const store = createOrderStore(handle.db, createOutbox({ livemode: false }));
      const orders = {
        ...store,
        async insert(...args: Parameters<typeof store.insert>) {
          const order = await store.insert(...args);
          // SIGKILL here: the order is committed and this process never runs another line.
          if (options.dieAfterOrderCommit) await new Promise(() => {});
          return order;
        },
      };
      let serial = 0;
      const service = createOrderService({
        orders,
        catalogue: catalogue.ok ? catalogue.catalogue : (undefined as never),
        pay: fakeGateway(prepaid),
        settle: async (order) => order,
        clock,
        log: createLogger('silent'),
        metrics: createMetrics(),
        newOutTradeNo: () => `ORPHAN${database.name}${clock.now()}${++serial}`,
        settings: { orderTtlMs: 1_800_000, maxOrderAmount: 1_000_000 },
      });
      const idempotent = createIdempotency({ store: createIdempotencyStore(handle.db), clock });
      return {
        prepaid,
        /** POST /api/orders with an Idempotency-Key, as src/http/routes/orders.ts runs it. */
        buy(user: { id: string; openid: string }, key: string) {
          const body = { sku: 'coffee', quantity: 1 };
          const input = { user, ...body, clientIp: '127.0.0.1' };
          return idempotent(user.id, key, hashRequest(body), async ({ claim, resumeId }) => {
            const created =
              resumeId === null
                ? await service.create({ ...input, claim })
                : await service.resume(user.id, resumeId, input.clientIp);
            return {
              status: 201,
              body: JSON.stringify({ id: created.order.id }),
              resourceId: created.order.id,
            };
          });
        },
      };
    }

    it('finishes the one order on the retry after the crash: one order, one unifiedorder', async () => {
      const clock = createManualClock(Date.UTC(2024, 0, 1, 4));
      const user = await createUserStore(handle.db).upsertByOpenid(
        { openid: 'o-orphan', unionid: null },
        clock.now(),
      );
      const doomed = instance(clock, { dieAfterOrderCommit: true });
      void doomed.buy(user, 'checkout-crash');
      await until(async () => (await ordersOf(user.id)).length === 1);

      // The phone retries at once and is told to wait, then again once the dead claim is stale.
      const restarted = instance(clock, { dieAfterOrderCommit: false });
      await expect(restarted.buy(user, 'checkout-crash')).rejects.toMatchObject({
        code: 'IDEMPOTENCY_KEY_IN_FLIGHT',
      });
      clock.advance(IN_FLIGHT_STALE_MS + 1);
      const retried = await restarted.buy(user, 'checkout-crash');

      const orders = await ordersOf(user.id);
      expect(orders).toHaveLength(1);
      expect(JSON.parse(retried.body)).toEqual({ id: orders[0]!.id });
      expect(restarted.prepaid).toEqual([orders[0]!.out_trade_no]);
      expect(doomed.prepaid).toEqual([]);
    });

    const ordersOf = (userId: string) =>
      handle.db.selectFrom('orders').select(['id', 'out_trade_no']).where('user_id', '=', userId).execute();
  });
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}
