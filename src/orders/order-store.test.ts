import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { type DbHandle, openDatabase } from '../db/open.js';
import { createUserStore } from '../users/user-store.js';
import { createOutbox } from '../webhooks/outbox.js';
import {
  createOrderStore,
  type NewOrder,
  OrderNotFoundError,
  OrderStateConflictError,
  type OrderStore,
  TransactionIdConflictError,
} from './order-store.js';

const T0 = Date.UTC(2024, 0, 1);
let serial = 0;

for (const database of testDatabases()) {
  describe(`order store on ${database.name}`, () => {
    let handle: TestDbHandle;
    let orders: OrderStore;
    let userId: string;
    let otherUserId: string;

    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 12 });
      orders = createOrderStore(handle.db, createOutbox({ livemode: false }));
      const users = createUserStore(handle.db);
      userId = (await users.upsertByOpenid({ openid: 'o-buyer', unionid: null }, T0)).id;
      otherUserId = (await users.upsertByOpenid({ openid: 'o-other', unionid: null }, T0)).id;
    });
    afterAll(() => handle.close());

    function newOrder(overrides: Partial<NewOrder> = {}): NewOrder {
      serial += 1;
      return {
        id: `ord-${database.name}-${serial}`,
        userId,
        openid: 'o-buyer',
        outTradeNo: `OTN${database.name}${serial}`,
        sku: 'tea',
        quantity: 2,
        description: '乌龙茶 x2',
        amount: 1990,
        currency: 'CNY',
        expiresAt: T0 + 7_200_000,
        ...overrides,
      };
    }

    it('saves a new order as PENDING with a created event, and finds it by id and out_trade_no', async () => {
      const row = newOrder();
      const order = await orders.insert(row, T0);
      expect(order).toMatchObject({
        ...row,
        status: 'PENDING',
        createdAt: T0,
        updatedAt: T0,
        transactionId: null,
      });
      expect(await orders.findById(row.id)).toEqual(order);
      expect(await orders.findByOutTradeNo(row.outTradeNo)).toEqual(order);
      expect(await orders.events(row.id)).toEqual([
        {
          id: expect.any(Number),
          type: 'created',
          data: { outTradeNo: row.outTradeNo, sku: 'tea', quantity: 2, amount: 1990, currency: 'CNY' },
          createdAt: T0,
        },
      ]);
    });

    it("hides another user's order as if it did not exist", async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      expect(await orders.findByIdForUser(row.id, userId)).toBeDefined();
      expect(await orders.findByIdForUser(row.id, otherUserId)).toBeUndefined();
    });

    it('refuses a second order with the same out_trade_no and leaves no partial row or event', async () => {
      const first = newOrder();
      await orders.insert(first, T0);
      const clash = newOrder({ outTradeNo: first.outTradeNo });
      await expect(orders.insert(clash, T0)).rejects.toThrow(/unique|duplicate/i);
      expect(await orders.findById(clash.id)).toBeUndefined();
      expect(await orders.events(clash.id)).toEqual([]);
    });

    it('keeps the first prepay request byte for byte, whatever later calls pass', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      const fields = { appid: 'wx1', body: row.description, out_trade_no: row.outTradeNo, total_fee: '1990' };
      await orders.savePrepayRequest(row.id, fields, T0 + 1);
      await orders.savePrepayRequest(row.id, { ...fields, total_fee: '1' }, T0 + 2);
      const saved = await orders.findById(row.id);
      expect(saved?.prepayRequest).toEqual(fields);
      expect(JSON.stringify(saved?.prepayRequest)).toBe(JSON.stringify(fields));
    });

    it('records the prepay_id with a prepaid event, and answers with the order as saved', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      const saved = await orders.savePrepay(
        row.id,
        { prepayId: 'wx201410272009395522657a690389285100', prepayExpiresAt: T0 + 7_200_000 },
        T0 + 5,
      );
      expect(saved).toEqual(await orders.findById(row.id));
      expect(saved).toMatchObject({
        prepayId: 'wx201410272009395522657a690389285100',
        prepayExpiresAt: T0 + 7_200_000,
        updatedAt: T0 + 5,
      });
      expect((await orders.events(row.id)).map((e) => e.type)).toEqual(['created', 'prepaid']);
      await expect(orders.savePrepay('missing', { prepayId: 'x', prepayExpiresAt: 0 }, T0)).rejects.toThrow(
        OrderNotFoundError,
      );
    });

    it('applies a transition only from the named states and logs the event plus state_changed', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      const wrong = await orders.transition(
        row.id,
        'refund',
        { event: { type: 'state_changed', data: {} } },
        T0 + 1,
      );
      expect(wrong).toBeUndefined();
      const closed = await orders.transition(
        row.id,
        'close',
        { event: { type: 'queried', data: { trade_state: 'CLOSED' } }, patch: { lastQueriedAt: T0 + 2 } },
        T0 + 2,
      );
      expect(closed).toMatchObject({ status: 'CLOSED', updatedAt: T0 + 2, lastQueriedAt: T0 + 2 });
      const events = await orders.events(row.id);
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['created', expect.anything()],
        ['queried', { trade_state: 'CLOSED' }],
        ['state_changed', { from: 'PENDING', to: 'CLOSED', lastQueriedAt: T0 + 2 }],
      ]);
      expect(
        await orders.transition('missing', 'close', { event: { type: 'queried', data: {} } }, T0),
      ).toBeUndefined();
    });

    it('marks an order PAID exactly once when 10 identical confirmations race', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      const paid = { transactionId: `4200${serial}`, paidAt: T0 + 60_000, source: 'notify' as const };
      // Two handles stand for two service instances (two pools on PostgreSQL).
      const second = await openDatabase(handle.url, { poolSize: 5 });
      const instances = [orders, createOrderStore(second.db, createOutbox({ livemode: false }))];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => instances[i % 2]!.markPaid(row.id, paid, T0 + 61_000)),
      ).finally(() => second.close());
      expect(results.filter((r) => r.changed)).toHaveLength(1);
      for (const r of results) {
        expect(r.order).toMatchObject({
          status: 'PAID',
          transactionId: paid.transactionId,
          paidAt: paid.paidAt,
          paidSource: 'notify',
        });
      }
      const changes = (await orders.events(row.id)).filter((e) => e.type === 'state_changed');
      expect(changes).toEqual([
        expect.objectContaining({
          data: {
            from: 'PENDING',
            to: 'PAID',
            transactionId: paid.transactionId,
            paidAt: paid.paidAt,
            paidSource: 'notify',
          },
        }),
      ]);
    });

    it('pays a locally closed order when the money arrives later', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      await orders.transition(row.id, 'close', { event: { type: 'queried', data: {} } }, T0 + 1);
      const result = await orders.markPaid(
        row.id,
        { transactionId: `4201${serial}`, paidAt: T0 + 2, source: 'close' },
        T0 + 3,
      );
      expect(result).toMatchObject({ changed: true, order: { status: 'PAID', paidSource: 'close' } });
    });

    it('refuses a transaction_id that already paid another order, and changes nothing (rule 1)', async () => {
      const a = newOrder();
      const b = newOrder();
      await orders.insert(a, T0);
      await orders.insert(b, T0);
      const transactionId = `4202${serial}`;
      await orders.markPaid(a.id, { transactionId, paidAt: T0, source: 'notify' }, T0);
      const eventsBefore = await orders.events(b.id);
      await expect(
        orders.markPaid(b.id, { transactionId, paidAt: T0, source: 'notify' }, T0),
      ).rejects.toBeInstanceOf(TransactionIdConflictError);
      expect(await orders.findById(b.id)).toMatchObject({ status: 'PENDING', transactionId: null });
      expect(await orders.events(b.id)).toEqual(eventsBefore);
    });

    it('refuses a different transaction on an order already paid, and answers unchanged for a repeat', async () => {
      const row = newOrder();
      await orders.insert(row, T0);
      await orders.markPaid(row.id, { transactionId: `4203${serial}`, paidAt: T0, source: 'notify' }, T0);
      const repeat = await orders.markPaid(
        row.id,
        { transactionId: `4203${serial}`, paidAt: T0 + 9, source: 'query' },
        T0 + 9,
      );
      expect(repeat).toMatchObject({
        changed: false,
        order: { status: 'PAID', paidAt: T0, paidSource: 'notify' },
      });
      await expect(
        orders.markPaid(row.id, { transactionId: `4299${serial}`, paidAt: T0, source: 'query' }, T0),
      ).rejects.toBeInstanceOf(OrderStateConflictError);
      await expect(
        orders.markPaid('missing', { transactionId: 'x', paidAt: T0, source: 'query' }, T0),
      ).rejects.toBeInstanceOf(OrderNotFoundError);
    });

    it('counts orders in every state, zeros included', async () => {
      const counts = await orders.countByStatus();
      expect(Object.keys(counts).sort()).toEqual([
        'CLOSED',
        'PAID',
        'PARTIALLY_REFUNDED',
        'PENDING',
        'REFUNDED',
        'REVIEW',
      ]);
      expect(counts.REFUNDED).toBe(0);
      const { n } = await handle.db
        .selectFrom('orders')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'PAID')
        .executeTakeFirstOrThrow();
      expect(counts.PAID).toBe(Number(n));
      expect(counts.PAID).toBeGreaterThanOrEqual(3);
    });
  });

  describe(`reconciler claims on ${database.name}`, () => {
    let handle: TestDbHandle;
    let second: DbHandle;
    let orders: OrderStore;
    let userId: string;
    const NOW = T0 + 3_600_000;

    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 4 });
      // A second handle on the same database stands for a second service instance.
      second = await openDatabase(handle.url, { poolSize: 4 });
      orders = createOrderStore(handle.db, createOutbox({ livemode: false }));
      userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-claim', unionid: null }, T0)).id;
    });
    afterAll(async () => {
      await second.close();
      await handle.close();
    });

    async function pending(count: number, createdAt: number, prefix: string): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = `${prefix}-${i}`;
        await orders.insert(
          {
            id,
            userId,
            openid: 'o-claim',
            outTradeNo: `${prefix}${i}`,
            sku: 'tea',
            quantity: 1,
            description: 'tea',
            amount: 100,
            currency: 'CNY',
            expiresAt: createdAt + 7_200_000,
          },
          createdAt + i,
        );
        ids.push(id);
      }
      return ids;
    }

    /** Settles a test's orders so the next test's claims see only its own. */
    async function closeAll(ids: string[]): Promise<void> {
      for (const id of ids) {
        await orders.transition(id, 'close', { event: { type: 'queried', data: {} } }, NOW);
      }
    }

    it('never hands one order to two concurrent claimers', async () => {
      const ids = await pending(30, T0, 'race');
      const other = createOrderStore(second.db, createOutbox({ livemode: false }));
      const claim = (store: OrderStore, owner: string) =>
        store.claimForReconcile({ now: NOW, createdBefore: NOW, limit: 4, leaseMs: 30_000, owner });
      const claimed: string[] = [];
      for (let round = 0; round < 5; round++) {
        const batches = await Promise.all([
          claim(orders, 'a'),
          claim(other, 'b'),
          claim(orders, 'a'),
          claim(other, 'b'),
        ]);
        claimed.push(...batches.flat().map((o) => o.id));
      }
      expect(claimed).toHaveLength(new Set(claimed).size);
      expect(claimed.length).toBe(30);
      expect(new Set(claimed)).toEqual(new Set(ids));
      const owners = await handle.db
        .selectFrom('orders')
        .select(['lease_owner', 'lease_until'])
        .where('id', 'in', ids)
        .execute();
      expect(
        owners.every(
          (r) => (r.lease_owner === 'a' || r.lease_owner === 'b') && r.lease_until === NOW + 30_000,
        ),
      ).toBe(true);
      await closeAll(ids);
    });

    it('skips leased, young and settled orders, and takes a lease back once it expires or is released', async () => {
      const [old, young] = [await pending(2, T0 + 100_000, 'lease'), await pending(1, NOW, 'young')];
      const [a, b] = old as [string, string];
      await orders.markPaid(
        b,
        { transactionId: `lease-${database.name}`, paidAt: NOW, source: 'notify' },
        NOW,
      );
      const take = (now: number) =>
        orders.claimForReconcile({ now, createdBefore: NOW, limit: 100, leaseMs: 60_000, owner: 'x' });
      expect((await take(NOW)).map((o) => o.id)).toEqual([a]);
      expect(await take(NOW + 59_999)).toEqual([]);
      expect((await take(NOW + 60_001)).map((o) => o.id)).toEqual([a]);
      await orders.release(a);
      expect((await take(NOW + 60_002)).map((o) => o.id)).toEqual([a]);
      await closeAll([a, ...young]);
    });

    it('offers never-queried orders before recently queried ones', async () => {
      const [queried, fresh] = (await pending(2, T0 + 200_000, 'fair')) as [string, string];
      await orders.touchQueried(queried, NOW - 1000);
      const claimed = await orders.claimForReconcile({
        now: NOW + 200_000,
        createdBefore: T0 + 300_000,
        limit: 1,
        leaseMs: 1,
        owner: 'f',
      });
      expect(claimed.map((o) => o.id)).toEqual([fresh]);
      expect((await orders.findById(queried))?.lastQueriedAt).toBe(NOW - 1000);
    });
  });
}
