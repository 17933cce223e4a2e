/**
 * The outbox's promise: an event commits exactly when the state change that causes it commits.
 * Each "rolls back" case breaks one table so that a write in the same transaction fails, and
 * checks that neither the change nor its event is visible afterwards: the event insert failing
 * must undo the state change (an event written after the commit would not), and a write after
 * the event failing must undo the event (an event written outside the transaction would stay).
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { dialectOf } from '../../src/db/dialect-of.js';
import { createAnomalyStore } from '../../src/orders/anomaly-store.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createRefundStore } from '../../src/orders/refund-store.js';
import { createOutbox, recordEvents } from '../../src/webhooks/outbox.js';
import { testDatabases } from '../db/dialects.js';
import { orderStoreFixture, T0 } from '../orders/order-store-fixture.js';

/**
 * Makes every INSERT into `table` fail while `work` runs (a trigger that raises), then removes
 * the trigger. A trigger rather than a renamed table: other test files' migrations list every
 * schema's tables, and a table vanishing mid-listing would fail them.
 */
async function withoutTable<T>(db: Db, table: string, work: () => Promise<T>): Promise<T> {
  const trigger = sql.id(`fail_${table}_insert`);
  if (dialectOf(db) === 'postgres') {
    await sql`create or replace function fail_insert() returns trigger language plpgsql
      as $$ begin raise exception 'injected failure'; end $$`.execute(db);
    await sql`create trigger ${trigger} before insert on ${sql.table(table)}
      for each row execute function fail_insert()`.execute(db);
  } else {
    await sql`create trigger ${trigger} before insert on ${sql.table(table)}
      begin select raise(abort, 'injected failure'); end`.execute(db);
  }
  try {
    return await work();
  } finally {
    await sql`drop trigger ${trigger}${dialectOf(db) === 'postgres' ? sql` on ${sql.table(table)}` : sql``}`.execute(
      db,
    );
  }
}

async function eventsFor(db: Db, orderId: string) {
  const rows = await db
    .selectFrom('webhook_events')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, body: JSON.parse(r.body) }));
}

const status = async (db: Db, id: string) =>
  (await db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

for (const database of testDatabases()) {
  describe(`outbox written with the state change on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'obx');
    const outbox = createOutbox({ livemode: false });
    const orders = () => createOrderStore(s.handle.db, outbox);
    let tx = 0;
    const paid = () => ({
      transactionId: `4200OBX${database.name}${++tx}`,
      paidAt: T0,
      source: 'query' as const,
    });

    it('writes one payment.succeeded with the paid order as data.object, and none for a repeat', async () => {
      const order = await s.newOrder();
      const payment = paid();
      let woken = 0;
      const stop = outbox.onCommitted(() => {
        woken += 1;
      });
      await orders().markPaid(order.id, payment, T0 + 5000);
      await orders().markPaid(order.id, payment, T0 + 6000);
      stop();
      const events = await eventsFor(s.handle.db, order.id);
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event!.type).toBe('payment.succeeded');
      expect(event!.id).toMatch(/^evt_[0-9a-f]{24}$/);
      expect(event!.body).toEqual({
        id: event!.id,
        type: 'payment.succeeded',
        created: Math.floor((T0 + 5000) / 1000),
        livemode: false,
        data: {
          object: expect.objectContaining({
            object: 'payment',
            id: order.id,
            outTradeNo: order.outTradeNo,
            status: 'PAID',
            amount: 100,
            transactionId: payment.transactionId,
          }),
        },
      });
      expect(woken).toBeGreaterThanOrEqual(1);
    });

    it('says livemode true when the service runs against WeChat', async () => {
      const order = await s.newOrder();
      await createOrderStore(s.handle.db, createOutbox({ livemode: true })).markPaid(order.id, paid(), T0);
      const [event] = await eventsFor(s.handle.db, order.id);
      expect(event!.body.livemode).toBe(true);
      expect(event!.livemode).toBe(1);
    });

    it('rolls the payment back when its event cannot be written', async () => {
      const order = await s.newOrder();
      await withoutTable(s.handle.db, 'webhook_events', async () => {
        await expect(orders().markPaid(order.id, paid(), T0)).rejects.toThrow();
      });
      expect(await status(s.handle.db, order.id)).toBe('PENDING');
      expect((await orders().events(order.id)).map((e) => e.type)).toEqual(['created']);
    });

    it('rolls the event back when a later write of the payment fails', async () => {
      const order = await s.newOrder();
      const evidence = {
        transactionId: `4200OBXEV${database.name}${++tx}`,
        outTradeNo: order.outTradeNo,
        source: 'query' as const,
        totalFee: 100,
        currency: 'CNY',
        appid: 'wx1234567890abcdef',
        mchId: '1900000109',
        paidAt: T0,
        raw: {},
      };
      await withoutTable(s.handle.db, 'payment_evidence', async () => {
        await expect(
          orders().markPaid(
            order.id,
            { transactionId: evidence.transactionId, paidAt: T0, source: 'query', evidence },
            T0,
          ),
        ).rejects.toThrow();
      });
      expect(await status(s.handle.db, order.id)).toBe('PENDING');
      expect(await eventsFor(s.handle.db, order.id)).toEqual([]);
    });

    it('writes payment.closed and payment.review with their transitions, and rolls both back together', async () => {
      const closing = await s.newOrder();
      const flagged = await s.newOrder();
      const event = { type: 'state_changed' as const, data: {} };
      await orders().transition(closing.id, 'close', { event }, T0);
      await orders().transition(flagged.id, 'flag', { event: { type: 'anomaly', data: {} } }, T0);
      expect(
        (await eventsFor(s.handle.db, closing.id)).map((e) => [e.type, e.body.data.object.status]),
      ).toEqual([['payment.closed', 'CLOSED']]);
      expect(
        (await eventsFor(s.handle.db, flagged.id)).map((e) => [e.type, e.body.data.object.status]),
      ).toEqual([['payment.review', 'REVIEW']]);
      const other = await s.newOrder();
      await withoutTable(s.handle.db, 'webhook_events', async () => {
        await expect(orders().transition(other.id, 'close', { event }, T0)).rejects.toThrow();
      });
      expect(await status(s.handle.db, other.id)).toBe('PENDING');
    });

    it('under group commit: every paid order of a batch has its event, and a failing batch leaves neither', async () => {
      const seen = await Promise.all(Array.from({ length: 6 }, () => s.newOrder()));
      const notify = (i: number, n = ++tx) =>
        orders().markPaidFromNotification(
          seen[i]!,
          { transactionId: `4200OBXN${database.name}${n}`, paidAt: T0, cashFee: 100 },
          T0,
        );
      // Sent together, they share batches: one UPDATE pays several orders at once.
      await Promise.all([0, 1, 2].map((i) => notify(i)));
      for (const order of seen.slice(0, 3)) {
        expect((await eventsFor(s.handle.db, order.id)).map((e) => e.type)).toEqual(['payment.succeeded']);
      }
      await withoutTable(s.handle.db, 'webhook_events', async () => {
        const results = await Promise.allSettled([3, 4, 5].map((i) => notify(i)));
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      });
      for (const order of seen.slice(3)) expect(await status(s.handle.db, order.id)).toBe('PENDING');
    });

    it('under group commit: a write after the events failing takes the events back too', async () => {
      const seen = await Promise.all(Array.from({ length: 3 }, () => s.newOrder()));
      await withoutTable(s.handle.db, 'order_events', async () => {
        const results = await Promise.allSettled(
          seen.map((order) =>
            orders().markPaidFromNotification(
              order,
              { transactionId: `4200OBXG${database.name}${++tx}`, paidAt: T0, cashFee: 100 },
              T0,
            ),
          ),
        );
        expect(results.every((r) => r.status === 'rejected')).toBe(true);
      });
      for (const order of seen) {
        expect(await status(s.handle.db, order.id)).toBe('PENDING');
        expect(await eventsFor(s.handle.db, order.id)).toEqual([]);
      }
    });

    it('writes refund.succeeded and refund.failed as refunds settle, in their transaction', async () => {
      const refunds = createRefundStore(s.handle.db, outbox);
      const order = await s.newOrder();
      await orders().markPaid(order.id, paid(), T0);
      const ask = (id: string, amount: number) =>
        refunds.reserve(
          { id, orderId: order.id, outRefundNo: `R${id}`, amount, reason: 'test', requestedBy: 'admin' },
          T0,
        );
      const ids = ['ok', 'no', 'broken'].map((k) => `obx-${database.name}-${k}-${tx}`);
      for (const id of ids) await ask(id, 10);
      await refunds.settle(ids[0]!, { status: 'SUCCESS', refundId: 'wxr1' }, T0);
      await refunds.settle(ids[1]!, { status: 'CLOSED', error: 'TRADE_OVERDUE' }, T0);
      await withoutTable(s.handle.db, 'webhook_events', async () => {
        await expect(refunds.settle(ids[2]!, { status: 'SUCCESS', refundId: 'wxr3' }, T0)).rejects.toThrow();
      });
      const events = (await eventsFor(s.handle.db, order.id)).filter((e) => e.type.startsWith('refund.'));
      expect(events.map((e) => [e.type, e.refund_id, e.body.data.object.status])).toEqual([
        ['refund.succeeded', ids[0], 'SUCCESS'],
        ['refund.failed', ids[1], 'CLOSED'],
      ]);
      expect(events[1]!.body.data.object).toMatchObject({
        failureReason: 'TRADE_OVERDUE',
        paymentId: order.id,
      });
      expect((await refunds.findById(ids[2]!))!.status).toBe('PROCESSING');
    });

    it('announces payment.review once for a conflicting payment, however often it is reported', async () => {
      const anomalies = createAnomalyStore(s.handle.db, outbox);
      const order = await s.newOrder();
      const report = () =>
        anomalies.record(
          { kind: 'transaction_conflict', ref: `T-${order.id}`, orderId: order.id, data: {} },
          T0,
        );
      await Promise.all([report(), report(), report()]);
      expect((await eventsFor(s.handle.db, order.id)).map((e) => e.type)).toEqual(['payment.review']);
    });

    it('records a reconciliation.mismatch in the caller transaction, and none when it rolls back', async () => {
      const object = {
        object: 'reconciliation_mismatch' as const,
        billDate: '2024-01-01',
        kind: 'missing_locally',
        outTradeNo: `OBXREC${database.name}`,
        transactionId: null,
        details: {},
      };
      await expect(
        s.handle.db.transaction().execute(async (trx) => {
          await recordEvents(trx, [{ type: 'reconciliation.mismatch', object, livemode: false, now: T0 }]);
          throw new Error('the report failed');
        }),
      ).rejects.toThrow('the report failed');
      const count = async () =>
        (
          await s.handle.db
            .selectFrom('webhook_events')
            .select('body')
            .where('type', '=', 'reconciliation.mismatch')
            .execute()
        ).filter((r) => JSON.parse(r.body).data.object.outTradeNo === object.outTradeNo).length;
      expect(await count()).toBe(0);
      const [id] = await s.handle.db
        .transaction()
        .execute((trx) =>
          recordEvents(trx, [{ type: 'reconciliation.mismatch', object, livemode: false, now: T0 }]),
        );
      expect(id).toMatch(/^evt_/);
      expect(await count()).toBe(1);
    });
  });
}
