import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
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
      const prepaid = await Promise.all(
        saved.map((o, n) => orders.savePrepay(o.id, { prepayId: `wx${n}`, prepayExpiresAt: T0 + n }, T0 + 1)),
      );
      // Each caller gets its own order back, with its own prepay_id (the batch's CASE by id).
      expect(prepaid.map((o) => [o.id, o.prepayId, o.prepayExpiresAt, o.updatedAt])).toEqual(
        saved.map((o, n) => [o.id, `wx${n}`, T0 + n, T0 + 1]),
      );
      const rows = await handle.db
        .selectFrom('orders')
        .select(['id', 'prepay_id', 'prepay_expires_at'])
        .where('user_id', '=', userId)
        .execute();
      expect(rows).toHaveLength(40);
      const stored = new Map(rows.map((r) => [r.id, [r.prepay_id, Number(r.prepay_expires_at)]]));
      expect(saved.map((o) => stored.get(o.id))).toEqual(saved.map((_, n) => [`wx${n}`, T0 + n]));
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

    it('writes an order named twice in one batch once, with the last prepay_id, and answers both with it', async () => {
      const [a, b] = await Promise.all([orders.insert(order(200), T0), orders.insert(order(201), T0)]);
      const answers = await Promise.all([
        orders.savePrepay(a!.id, { prepayId: 'wx-first', prepayExpiresAt: T0 + 1 }, T0 + 2),
        orders.savePrepay(b!.id, { prepayId: 'wx-other', prepayExpiresAt: T0 + 1 }, T0 + 2),
        orders.savePrepay(a!.id, { prepayId: 'wx-last', prepayExpiresAt: T0 + 3 }, T0 + 4),
      ]);
      expect(answers.map((o) => [o.id, o.prepayId])).toEqual([
        [a!.id, 'wx-last'],
        [b!.id, 'wx-other'],
        [a!.id, 'wx-last'],
      ]);
      expect(await orders.findById(a!.id)).toMatchObject({ prepayId: 'wx-last', prepayExpiresAt: T0 + 3 });
      const events = (await orders.events(a!.id)).filter((e) => e.type === 'prepaid').map((e) => e.data);
      expect(events).toEqual([
        { prepayId: 'wx-first', prepayExpiresAt: T0 + 1 },
        { prepayId: 'wx-last', prepayExpiresAt: T0 + 3 },
      ]);
    });

    it('writes the prepay_ids of orders that arrive together, and their events, in one statement on PostgreSQL', async () => {
      const saved = await Promise.all([400, 401, 402].map((n) => orders.insert(order(n), T0)));
      let prepaid: Awaited<ReturnType<OrderStore['savePrepay']>>[] = [];
      const sent = await statementsSent(async () => {
        prepaid = await Promise.all(
          saved.map((o, n) =>
            orders.savePrepay(o.id, { prepayId: `wx-one-${n}`, prepayExpiresAt: T0 }, T0 + 1),
          ),
        );
      });
      expect(prepaid.map((o) => o.prepayId)).toEqual(['wx-one-0', 'wx-one-1', 'wx-one-2']);
      for (const o of saved)
        expect((await orders.events(o.id)).map((e) => e.type)).toEqual(['created', 'prepaid']);
      if (database.name === 'postgres') expect(sent).toHaveLength(1);
    });

    it('fails a missing order alone when its prepay_id is the only one', async () => {
      await expect(
        orders.savePrepay(`batch-${database.name}-nowhere`, { prepayId: 'wx-n', prepayExpiresAt: T0 }, T0),
      ).rejects.toMatchObject({ name: 'OrderNotFoundError' });
      const events = await handle.db
        .selectFrom('order_events')
        .select('id')
        .where('order_id', '=', `batch-${database.name}-nowhere`)
        .execute();
      expect(events).toEqual([]);
    });

    it('fails only a missing order when its prepay_id shares a batch with others', async () => {
      const c = await orders.insert(order(300), T0);
      const results = await Promise.allSettled([
        orders.savePrepay(c.id, { prepayId: 'wx-c', prepayExpiresAt: T0 + 1 }, T0 + 2),
        orders.savePrepay(
          `batch-${database.name}-missing`,
          { prepayId: 'wx-m', prepayExpiresAt: T0 + 1 },
          T0 + 2,
        ),
      ]);
      expect(results[0]).toMatchObject({ status: 'fulfilled', value: { id: c.id, prepayId: 'wx-c' } });
      expect(results[1]).toMatchObject({ status: 'rejected', reason: { name: 'OrderNotFoundError' } });
      expect((await orders.events(c.id)).map((e) => e.type)).toEqual(['created', 'prepaid']);
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
