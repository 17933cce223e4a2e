import BetterSqlite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
import { orderStoreFixture, T0 } from '../../test/orders/order-store-fixture.js';
import { openDatabase } from '../db/open.js';
import { TransactionIdConflictError } from './order-store.js';

for (const database of testDatabases()) {
  describe(`notification path of the order store on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'grp');
    const newOrder = async () => (await s.newOrder()).id;

    /** Reads through a connection of its own, which sees only committed rows. */
    async function committedStatuses(ids: string[]): Promise<string[]> {
      if (database.name === 'sqlite') {
        const file = new BetterSqlite(s.handle.url.slice('sqlite:'.length), { readonly: true });
        try {
          const rows = file
            .prepare(`select id, status from orders where id in (${ids.map(() => '?').join(',')})`)
            .all(...ids) as { id: string; status: string }[];
          const status = new Map(rows.map((r) => [r.id, r.status]));
          return ids.map((id) => status.get(id) ?? 'missing');
        } finally {
          file.close();
        }
      }
      const other = await openDatabase(s.handle.url);
      try {
        const rows = await other.db
          .selectFrom('orders')
          .select(['id', 'status'])
          .where('id', 'in', ids)
          .execute();
        const status = new Map(rows.map((r) => [r.id, r.status]));
        return ids.map((id) => status.get(id) ?? 'missing');
      } finally {
        await other.close();
      }
    }

    it('finds concurrent look-ups each its own order, and nothing for an unknown out_trade_no', async () => {
      const ids = await Promise.all([newOrder(), newOrder(), newOrder()]);
      const wanted = [...ids.map((id) => `GRP${database.name}${id.split('-').pop()}`), 'GRP-none'];
      const found = await Promise.all(wanted.map((n) => s.orders.findForNotification(n)));
      expect(found.map((o) => o?.id)).toEqual([...ids, undefined]);
    });

    it('pays concurrent notifications of different orders, each resolving only once committed', async () => {
      const ids = await Promise.all(Array.from({ length: 6 }, () => newOrder()));
      const seen = await Promise.all(ids.map(async (id) => (await s.orders.findById(id))!));
      const visible = await Promise.all(
        seen.map((order, i) =>
          s.orders
            .markPaidFromNotification(
              order,
              { transactionId: `4208${s.serial}${i}`, paidAt: T0, cashFee: 100 },
              T0 + 1,
            )
            .then(async (result) => ({ result, committed: await committedStatuses([order.id]) })),
        ),
      );
      expect(visible.map((v) => v.result.changed)).toEqual(ids.map(() => true));
      expect(visible.map((v) => v.committed[0])).toEqual(ids.map(() => 'PAID'));
      for (const [i, id] of ids.entries()) {
        expect(await s.orders.findById(id)).toMatchObject({
          status: 'PAID',
          transactionId: `4208${s.serial}${i}`,
        });
        expect((await s.orders.events(id)).map((e) => e.type)).toEqual([
          'created',
          'state_changed',
          'notification_received',
        ]);
      }
    });

    it('credits a notified order once however many copies share a batch, with one event per copy', async () => {
      const id = await newOrder();
      // Every copy read the order while it was still PENDING, as concurrent requests do.
      const seen = (await s.orders.findById(id))!;
      const transactionId = `4209${String(s.serial).padStart(24, '0')}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          s.orders.markPaidFromNotification(seen, { transactionId, paidAt: T0 + 5, cashFee: 100 }, T0 + 6),
        ),
      );
      expect(results.filter((r) => r.changed)).toHaveLength(1);
      expect(results.map((r) => r.from).sort()).toEqual([...Array(9).fill('PAID'), 'PENDING']);
      expect(await s.orders.findById(id)).toMatchObject({
        status: 'PAID',
        transactionId,
        paidSource: 'notify',
      });
      const events = await s.orders.events(id);
      expect(events.filter((e) => e.type === 'state_changed')).toHaveLength(1);
      const received = events.filter((e) => e.type === 'notification_received').map((e) => e.data);
      expect(received).toHaveLength(10);
      expect(received.filter((d) => (d as { applied: boolean }).applied)).toHaveLength(1);
      expect(received[0]).toMatchObject({ verified: true, transactionId, cashFee: 100 });
    });

    it('refuses a transaction_id that another order holds, without touching the rest of its batch', async () => {
      const [a, b, c] = [await newOrder(), await newOrder(), await newOrder()];
      const shared = `4210${String(s.serial).padStart(24, '0')}`;
      await s.orders.markPaid(a, { transactionId: shared, paidAt: T0, source: 'notify' }, T0);
      const [seenB, seenC] = [(await s.orders.findById(b))!, (await s.orders.findById(c))!];
      const [clash, fine] = await Promise.allSettled([
        s.orders.markPaidFromNotification(seenB, { transactionId: shared, paidAt: T0, cashFee: 100 }, T0),
        s.orders.markPaidFromNotification(
          seenC,
          { transactionId: `${shared.slice(0, -1)}9`, paidAt: T0, cashFee: 100 },
          T0,
        ),
      ]);
      expect(clash.status === 'rejected' && clash.reason).toBeInstanceOf(TransactionIdConflictError);
      expect(fine).toMatchObject({ status: 'fulfilled', value: { changed: true, from: 'PENDING' } });
      expect(await s.orders.findById(b)).toMatchObject({ status: 'PENDING', transactionId: null });
      expect((await s.orders.events(b)).map((e) => e.type)).toEqual(['created']);
    });

    if (database.name === 'postgres') {
      it('sends a batch of payments to PostgreSQL as five statements: BEGIN, lock, UPDATE, the INSERTs together, COMMIT', async () => {
        const ids = await Promise.all(Array.from({ length: 4 }, () => newOrder()));
        const seen = await Promise.all(ids.map(async (id) => (await s.orders.findById(id))!));
        const sent = await statementsSent(() =>
          Promise.all(
            seen.map((order, i) =>
              s.orders.markPaidFromNotification(
                order,
                {
                  transactionId: `4212${s.serial}${i}`,
                  paidAt: T0,
                  cashFee: 100,
                  evidence: {
                    source: 'notification',
                    outTradeNo: order.outTradeNo,
                    transactionId: `4212${s.serial}${i}`,
                    totalFee: 100,
                    currency: 'CNY',
                    appid: 'wx1',
                    mchId: '1900000109',
                    paidAt: T0,
                    raw: { out_trade_no: order.outTradeNo },
                  },
                },
                T0 + 1,
              ),
            ),
          ),
        );
        const statements = sent
          .filter((q) => !/^(savepoint|release)/i.test(q))
          .map((q) => q.replace(/\s+/g, ' ').slice(0, 30).toLowerCase());
        expect(statements).toHaveLength(5);
        expect(statements[0]).toBe('begin');
        expect(statements[1]).toMatch(/^select "id" from "orders"/);
        expect(statements[2]).toMatch(/^update "orders"/);
        expect(statements[3]).toMatch(/^with part0 as \(insert into/);
        expect(statements[4]).toBe('commit');
        // What the one statement wrote: the webhook event, the evidence and both events of each order.
        for (const id of ids) {
          expect((await s.orders.events(id)).map((e) => e.type)).toEqual([
            'created',
            'state_changed',
            'notification_received',
          ]);
          expect(await s.orders.evidenceFor(id)).toHaveLength(1);
        }
        const webhooks = await s.handle.db
          .selectFrom('webhook_events')
          .select('order_id')
          .where('order_id', 'in', ids)
          .execute();
        expect(webhooks.map((w) => w.order_id).sort()).toEqual([...ids].sort());
      });
    }

    it('pays an order that was closed after the caller read it, and says it was CLOSED', async () => {
      const id = await newOrder();
      const seen = (await s.orders.findById(id))!;
      await s.orders.transition(id, 'close', { event: { type: 'queried', data: {} } }, T0 + 1);
      const transactionId = `4211${String(s.serial).padStart(24, '0')}`;
      const result = await s.orders.markPaidFromNotification(
        seen,
        { transactionId, paidAt: T0, cashFee: 100 },
        T0 + 2,
      );
      expect(result).toMatchObject({
        changed: true,
        from: 'CLOSED',
        order: { status: 'PAID', transactionId },
      });
      const changes = (await s.orders.events(id))
        .filter((e) => e.type === 'state_changed')
        .map((e) => e.data);
      expect(changes).toEqual([
        { from: 'PENDING', to: 'CLOSED' },
        { from: 'CLOSED', to: 'PAID', transactionId, paidAt: T0, paidSource: 'notify' },
      ]);
    });
  });
}
