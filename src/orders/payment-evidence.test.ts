import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { orderStoreFixture, T0 } from '../../test/orders/order-store-fixture.js';
import type { PaymentEvidence } from './decide.js';
import { OrderStateConflictError } from './order-store.js';

for (const database of testDatabases()) {
  describe(`one way to PAID, and the evidence of every payment, on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'ev');
    const newOrder = () => s.newOrder();

    function evidenceFor(outTradeNo: string, transactionId: string): PaymentEvidence {
      return {
        source: 'notification',
        outTradeNo,
        transactionId,
        totalFee: 100,
        currency: 'CNY',
        appid: 'wx1234567890abcdef',
        mchId: '1900000109',
        paidAt: T0 + 5,
        cashFee: 80,
        raw: { transaction_id: transactionId, time_end: '20240101080005', cash_fee: '80' },
      };
    }
    let txns = 0;
    const txn = () => `4200${database.name === 'sqlite' ? 1 : 2}${String(++txns).padStart(23, '0')}`;

    it('refuses an UPDATE to a status the transition table does not know', async () => {
      const order = await newOrder();
      await expect(
        sql`update orders set status = 'BOGUS' where id = ${order.id}`.execute(s.handle.db),
      ).rejects.toThrow(/orders_status_known/);
      await expect(
        s.handle.db.updateTable('orders').set({ status: 'paid' }).where('id', '=', order.id).execute(),
      ).rejects.toThrow(/orders_status_known/);
      expect((await s.orders.findById(order.id))?.status).toBe('PENDING');
      // Every state the code knows is accepted.
      for (const status of ['PAID', 'CLOSED', 'REFUNDED', 'REVIEW', 'PENDING']) {
        await s.handle.db.updateTable('orders').set({ status }).where('id', '=', order.id).execute();
      }
    });

    it("keeps a REVIEW order's later verified payment, which WeChat will not send again", async () => {
      const order = await newOrder();
      await s.orders.transition(order.id, 'flag', { event: { type: 'anomaly', data: {} } }, T0 + 1);
      const seen = (await s.orders.findById(order.id))!;
      const transactionId = txn();
      const evidence = evidenceFor(order.outTradeNo, transactionId);
      const result = await s.orders.markPaidFromNotification(
        seen,
        { transactionId, paidAt: T0 + 5, cashFee: 80, evidence },
        T0 + 6,
      );
      expect(result).toMatchObject({ changed: false, from: 'REVIEW', order: { status: 'REVIEW' } });
      const kept = await s.orders.evidenceFor(order.id);
      expect(kept).toEqual([
        {
          transaction_id: transactionId,
          order_id: order.id,
          out_trade_no: order.outTradeNo,
          source: 'notification',
          total_fee: 100,
          cash_fee: 80,
          currency: 'CNY',
          appid: 'wx1234567890abcdef',
          mch_id: '1900000109',
          paid_at: T0 + 5,
          time_end: '20240101080005',
          order_status: 'REVIEW',
          raw: JSON.stringify(evidence.raw),
          received_at: T0 + 6,
        },
      ]);
      // The single path keeps it too (an order query for the same REVIEW order).
      const queried = { ...evidenceFor(order.outTradeNo, txn()), source: 'query' as const };
      await s.orders.markPaid(
        order.id,
        { transactionId: queried.transactionId, paidAt: T0, source: 'query', evidence: queried },
        T0 + 7,
      );
      expect((await s.orders.evidenceFor(order.id)).map((e) => [e.source, e.order_status])).toEqual([
        ['notification', 'REVIEW'],
        ['query', 'REVIEW'],
      ]);
    });

    it('keeps one row per transaction_id, for duplicates and for CLOSED and REFUNDED orders', async () => {
      const closed = await newOrder();
      await s.orders.transition(closed.id, 'close', { event: { type: 'queried', data: {} } }, T0 + 1);
      const t1 = txn();
      const e1 = evidenceFor(closed.outTradeNo, t1);
      const paid = { transactionId: t1, paidAt: T0 + 5, source: 'notify' as const, evidence: e1 };
      expect((await s.orders.markPaid(closed.id, paid, T0 + 2)).changed).toBe(true);
      expect((await s.orders.markPaid(closed.id, paid, T0 + 3)).changed).toBe(false);
      await s.orders.transition(closed.id, 'refund', { event: { type: 'state_changed', data: {} } }, T0 + 4);
      expect((await s.orders.markPaid(closed.id, paid, T0 + 5)).changed).toBe(false);
      expect((await s.orders.evidenceFor(closed.id)).map((e) => [e.transaction_id, e.order_status])).toEqual([
        [t1, 'CLOSED'],
      ]);
      // A second transaction for the refunded order is a conflict, and is not credited.
      const t2 = txn();
      await expect(
        s.orders.markPaid(
          closed.id,
          { ...paid, transactionId: t2, evidence: evidenceFor(closed.outTradeNo, t2) },
          T0 + 6,
        ),
      ).rejects.toBeInstanceOf(OrderStateConflictError);
    });

    it('writes identical rows, events and evidence through the batched and the single path', async () => {
      const viaBatch = await Promise.all([newOrder(), newOrder(), newOrder()]);
      const viaSingle = await Promise.all([newOrder(), newOrder(), newOrder()]);
      await s.orders.transition(viaBatch[1]!.id, 'close', { event: { type: 'queried', data: {} } }, T0 + 1);
      await s.orders.transition(viaSingle[1]!.id, 'close', { event: { type: 'queried', data: {} } }, T0 + 1);
      const seen = await Promise.all(viaBatch.map((o) => s.orders.findById(o.id)));
      const batched = await Promise.all(
        seen.map((o) => {
          const transactionId = txn();
          const evidence = evidenceFor(o!.outTradeNo, transactionId);
          return s.orders.markPaidFromNotification(
            o!,
            { transactionId, paidAt: T0 + 5, cashFee: 80, evidence },
            T0 + 9,
          );
        }),
      );
      const single = [];
      for (const o of viaSingle) {
        const transactionId = txn();
        const evidence = evidenceFor(o.outTradeNo, transactionId);
        single.push(
          await s.orders.markPaid(
            o.id,
            { transactionId, paidAt: T0 + 5, source: 'notify', evidence },
            T0 + 9,
          ),
        );
      }
      expect(batched.map((r) => r.changed)).toEqual([true, true, true]);
      expect(single.map((r) => r.changed)).toEqual([true, true, true]);

      /** The order's row, events and evidence without what differs by construction (ids, numbers). */
      async function trace(orderId: string) {
        const row = await s.handle.db
          .selectFrom('orders')
          .selectAll()
          .where('id', '=', orderId)
          .executeTakeFirstOrThrow();
        const { id, out_trade_no, transaction_id, ...rest } = row;
        const unnamed = (data: unknown) =>
          JSON.parse(JSON.stringify(data).replaceAll(transaction_id!, 'T').replaceAll(out_trade_no, 'N'));
        const events = (await s.orders.events(orderId))
          .filter((e) => e.type !== 'notification_received') // the notification path's own record
          .map((e) => [e.type, unnamed(e.data), e.createdAt]);
        const evidence = (await s.orders.evidenceFor(orderId)).map(
          ({ order_id, out_trade_no: _o, transaction_id: _t, raw, ...e }) => ({
            ...e,
            raw: unnamed(JSON.parse(raw)),
          }),
        );
        return { row: rest, events, evidence };
      }
      for (const [i, o] of viaBatch.entries()) {
        expect(await trace(o.id)).toEqual(await trace(viaSingle[i]!.id));
      }
      const first = await trace(viaBatch[1]!.id);
      expect(first.row).toMatchObject({
        status: 'PAID',
        paid_source: 'notify',
        paid_at: T0 + 5,
        updated_at: T0 + 9,
      });
      expect(first.events.at(-1)).toEqual([
        'state_changed',
        { from: 'CLOSED', to: 'PAID', transactionId: 'T', paidAt: T0 + 5, paidSource: 'notify' },
        T0 + 9,
      ]);
      expect(first.evidence).toMatchObject([{ order_status: 'CLOSED', source: 'notification' }]);
    });
  });
}
