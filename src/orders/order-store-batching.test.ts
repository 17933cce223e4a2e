import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createUserStore } from '../users/user-store.js';
import { createOutbox } from '../webhooks/outbox.js';
import { createOrderStore, type NewOrder, type OrderStore } from './order-store.js';

const T0 = Date.UTC(2024, 0, 1);

for (const database of testDatabases()) {
  describe(`order creation grouped into shared transactions on ${database.name}`, () => {
    let handle: TestDbHandle;
    let orders: OrderStore;
    let userId: string;

    beforeAll(async () => {
      handle = await database.openMigrated();
      orders = createOrderStore(handle.db, createOutbox({ livemode: false }));
      userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-batch', unionid: null }, T0)).id;
    });
    afterAll(() => handle.close());

    const order = (n: number, outTradeNo = `BATCH${database.name}${n}`): NewOrder => ({
      id: `batch-${database.name}-${n}`,
      userId,
      openid: 'o-batch',
      outTradeNo,
      sku: 'tea',
      quantity: 1,
      description: '茶',
      amount: 100 + n,
      currency: 'CNY',
      expiresAt: T0 + 60_000,
      prepayRequest: { outTradeNo, totalFee: String(100 + n) },
    });

    it('saves every concurrent order with its request and one created event, and each prepay_id', async () => {
      const saved = await Promise.all(Array.from({ length: 40 }, (_, n) => orders.insert(order(n), T0)));
      expect(saved.map((o) => o.amount)).toEqual(Array.from({ length: 40 }, (_, n) => 100 + n));
      expect(saved[7]?.prepayRequest).toEqual({ outTradeNo: `BATCH${database.name}7`, totalFee: '107' });
      await Promise.all(
        saved.map((o, n) => orders.savePrepay(o.id, { prepayId: `wx${n}`, prepayExpiresAt: T0 + n }, T0)),
      );
      const rows = await handle.db
        .selectFrom('orders')
        .select(['id', 'prepay_id'])
        .where('user_id', '=', userId)
        .execute();
      expect(rows).toHaveLength(40);
      expect(rows.every((r) => r.prepay_id?.startsWith('wx'))).toBe(true);
      const events = await handle.db
        .selectFrom('order_events')
        .select(['order_id', 'type'])
        .where(
          'order_id',
          'in',
          saved.map((o) => o.id),
        )
        .execute();
      expect(events.filter((e) => e.type === 'created')).toHaveLength(40);
      expect(events.filter((e) => e.type === 'prepaid')).toHaveLength(40);
    });

    it('fails only the order that breaks a constraint when it shares a batch with others', async () => {
      const results = await Promise.allSettled([
        orders.insert(order(100), T0),
        orders.insert(order(101, `BATCH${database.name}0`), T0), // out_trade_no already taken
        orders.insert(order(102), T0),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const second = await orders.findById(`batch-${database.name}-101`);
      expect(second).toBeUndefined();
    });
  });
}
