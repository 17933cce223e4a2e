import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { orderStoreFixture, T0 } from '../../test/orders/order-store-fixture.js';
import { createIdempotencyStore } from './idempotency-store.js';
import { MAX_REFUNDS_PER_ORDER, type Order } from './order.js';
import { createRefundStore } from './refund-store.js';

for (const database of testDatabases()) {
  describe(`refund store on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'rfs');
    let n = 0;
    const store = () => createRefundStore(s.handle.db);

    async function paidOrder(): Promise<Order> {
      const order = await s.newOrder();
      await s.orders.markPaid(
        order.id,
        { transactionId: `42000RFS${database.name}${s.serial}`, paidAt: T0, source: 'notify' },
        T0,
      );
      return order;
    }
    const ask = (orderId: string, amount: number) => {
      n += 1;
      return store().reserve(
        {
          id: `rf-${database.name}-${n}`,
          orderId,
          outRefundNo: `RF${database.name}${n}`,
          amount,
          reason: 'test',
          requestedBy: 'admin',
        },
        T0,
      );
    };
    const ledger = async (orderId: string) =>
      s.handle.db
        .selectFrom('orders')
        .select(['status', 'refunded_fen', 'refund_count'])
        .where('id', '=', orderId)
        .executeTakeFirstOrThrow();
    const refundRows = (orderId: string) =>
      s.handle.db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).execute();

    it('reserves a refund and saves it PROCESSING with its out_refund_no, in one commit', async () => {
      const order = await paidOrder();
      const result = await ask(order.id, 30);
      expect(result.ok).toBe(true);
      expect(await ledger(order.id)).toEqual({ status: 'PAID', refunded_fen: 30, refund_count: 1 });
      const rows = await refundRows(order.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'PROCESSING', amount: 30, refund_id: null });
    });

    it('records the refund on the Idempotency-Key that asked for it, in the same commit as the refund', async () => {
      // A crash right after the refund is saved must leave the key pointing at it: the retry then
      // resumes this refund (same out_refund_no) instead of saving and sending a second one.
      const order = await paidOrder();
      const keys = createIdempotencyStore(s.handle.db);
      const key = { userId: 'admin', key: `rk-${database.name}-${++n}`, requestHash: 'h' };
      expect(await keys.begin({ ...key, now: T0, ttlMs: 60_000 })).toEqual({ kind: 'new' });
      n += 1;
      const result = await store().reserve(
        {
          id: `rf-${database.name}-${n}`,
          orderId: order.id,
          outRefundNo: `RF${database.name}${n}`,
          amount: 10,
          reason: 'test',
          requestedBy: 'admin',
        },
        T0,
        { userId: key.userId, key: key.key },
      );
      expect(result.ok).toBe(true);
      const row = await s.handle.db
        .selectFrom('idempotency_keys')
        .select(['order_id', 'state'])
        .where('user_id', '=', key.userId)
        .where('key', '=', key.key)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ order_id: `rf-${database.name}-${n}`, state: 'in_flight' });
      expect(await keys.takeOver({ ...key, staleBefore: T0 + 1, now: T0 + 2 })).toEqual({
        orderId: `rf-${database.name}-${n}`,
      });
    });

    it('refuses more than what is left, an unpaid order and a REVIEW order, changing nothing', async () => {
      const order = await paidOrder();
      await ask(order.id, 60);
      expect(await ask(order.id, 41)).toEqual({ ok: false, refusal: { kind: 'exceeds_paid', left: 40 } });
      const pending = await s.newOrder();
      expect(await ask(pending.id, 1)).toEqual({
        ok: false,
        refusal: { kind: 'not_refundable', status: 'PENDING' },
      });
      const review = await s.newOrder();
      await s.orders.transition(review.id, 'flag', { event: { type: 'anomaly', data: {} } }, T0);
      expect(await ask(review.id, 1)).toEqual({
        ok: false,
        refusal: { kind: 'not_refundable', status: 'REVIEW' },
      });
      expect(await ask('no-such-order', 1)).toEqual({ ok: false, refusal: { kind: 'order_not_found' } });
      expect(await ledger(order.id)).toEqual({ status: 'PAID', refunded_fen: 60, refund_count: 1 });
      expect(await ledger(pending.id)).toEqual({ status: 'PENDING', refunded_fen: 0, refund_count: 0 });
      expect(await refundRows(pending.id)).toEqual([]);
      expect(await refundRows(review.id)).toEqual([]);
    });

    it(`refuses refund number ${MAX_REFUNDS_PER_ORDER + 1}`, async () => {
      const order = await paidOrder();
      for (let i = 0; i < MAX_REFUNDS_PER_ORDER; i++) expect((await ask(order.id, 1)).ok).toBe(true);
      expect(await ask(order.id, 1)).toEqual({ ok: false, refusal: { kind: 'limit_reached', count: 50 } });
      expect(await ledger(order.id)).toEqual({ status: 'PAID', refunded_fen: 50, refund_count: 50 });
      expect(await refundRows(order.id)).toHaveLength(50);
    });

    it('never reserves more than was paid when 20 requests of 7 fen race for 100', async () => {
      const order = await paidOrder();
      const results = await Promise.all(Array.from({ length: 20 }, () => ask(order.id, 7)));
      expect(results.filter((r) => r.ok)).toHaveLength(14);
      expect(await ledger(order.id)).toEqual({ status: 'PAID', refunded_fen: 98, refund_count: 14 });
      const rows = await refundRows(order.id);
      expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(98);
    });

    it('has the database refuse a ledger above the amount or above 50 refunds, whoever writes it', async () => {
      const order = await paidOrder();
      await expect(
        sql`update orders set refunded_fen = 101 where id = ${order.id}`.execute(s.handle.db),
      ).rejects.toThrow(/check/i);
      await expect(
        sql`update orders set refund_count = 51 where id = ${order.id}`.execute(s.handle.db),
      ).rejects.toThrow(/check/i);
      await expect(
        sql`update orders set status = 'PARTIALLY_REFUNDED' where id = ${order.id}`.execute(s.handle.db),
      ).resolves.toBeDefined();
      await expect(
        sql`update orders set status = 'HALF' where id = ${order.id}`.execute(s.handle.db),
      ).rejects.toThrow(/orders_status_known/);
    });

    it('moves the order to PARTIALLY_REFUNDED, then REFUNDED, as refunds succeed; a settled refund settles once', async () => {
      const order = await paidOrder();
      const a = await ask(order.id, 40);
      const b = await ask(order.id, 60);
      if (!a.ok || !b.ok) throw new Error('reservation failed');
      const first = await store().settle(a.refund.id, { status: 'SUCCESS', refundId: '503A' }, T0 + 1);
      expect(first).toMatchObject({ changed: true, order: { status: 'PARTIALLY_REFUNDED' } });
      const again = await store().settle(a.refund.id, { status: 'CLOSED' }, T0 + 2);
      expect(again).toMatchObject({ changed: false, refund: { status: 'SUCCESS' } });
      expect((await store().settle(b.refund.id, { status: 'SUCCESS' }, T0 + 3)).order.status).toBe(
        'REFUNDED',
      );
      expect(await ledger(order.id)).toEqual({ status: 'REFUNDED', refunded_fen: 100, refund_count: 2 });
      const moves = (await s.orders.events(order.id))
        .filter((e) => e.type === 'state_changed')
        .map((e) => e.data);
      expect(moves).toEqual([
        expect.objectContaining({ to: 'PAID' }),
        expect.objectContaining({ from: 'PAID', to: 'PARTIALLY_REFUNDED', refunded: 40 }),
        expect.objectContaining({ from: 'PARTIALLY_REFUNDED', to: 'REFUNDED', refunded: 100 }),
      ]);
    });

    it('gives a CLOSED refund its amount back and leaves the order as it was; CHANGE keeps it counted', async () => {
      const order = await paidOrder();
      const a = await ask(order.id, 70);
      const b = await ask(order.id, 30);
      if (!a.ok || !b.ok) throw new Error('reservation failed');
      await store().settle(a.refund.id, { status: 'CLOSED', error: 'REFUNDCLOSE' }, T0 + 1);
      await store().settle(b.refund.id, { status: 'CHANGE' }, T0 + 1);
      expect(await ledger(order.id)).toEqual({ status: 'PAID', refunded_fen: 30, refund_count: 2 });
      expect((await ask(order.id, 70)).ok).toBe(true);
    });
  });
}
