import BetterSqlite from 'better-sqlite3';
import type { Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import { createUserStore } from '../users/user-store.js';
import { createGroupCommit } from './group-commit.js';
import { createOrderStore, type OrderStore, TransactionIdConflictError } from './order-store.js';

const T0 = Date.UTC(2024, 0, 1);
let serial = 0;

for (const database of testDatabases()) {
  describe(`group commit on ${database.name}`, () => {
    let handle: TestDbHandle;
    let orders: OrderStore;
    let userId: string;

    beforeAll(async () => {
      handle = await database.openMigrated();
      orders = createOrderStore(handle.db);
      userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-group', unionid: null }, T0)).id;
    });
    afterAll(() => handle.close());

    async function newOrder() {
      serial += 1;
      const id = `grp-${database.name}-${serial}`;
      await orders.insert(
        {
          id,
          userId,
          openid: 'o-group',
          outTradeNo: `GRP${database.name}${serial}`,
          sku: 'tea',
          quantity: 1,
          description: '乌龙茶',
          amount: 100,
          currency: 'CNY',
          expiresAt: T0 + 7_200_000,
        },
        T0,
      );
      return id;
    }

    const touch = (trx: Transaction<Database>, id: string) =>
      trx
        .updateTable('orders')
        .set({ updated_at: T0 + 1 })
        .where('id', '=', id)
        .execute();

    it('runs units that arrive together in one transaction and gives each its own result', async () => {
      const group = createGroupCommit(handle.db, { maxConcurrent: 1 });
      const ids = await Promise.all(Array.from({ length: 8 }, () => newOrder()));
      const seen: Transaction<Database>[] = [];
      const results = await Promise.all(
        ids.map((id) =>
          group.run(id, async (trx) => {
            seen.push(trx);
            await touch(trx, id);
            return id.toUpperCase();
          }),
        ),
      );
      expect(results).toEqual(ids.map((id) => id.toUpperCase()));
      expect(new Set(seen).size).toBe(1);
    });

    /** Reads through a connection of its own, which sees only committed rows. */
    async function committedStatuses(ids: string[]): Promise<string[]> {
      if (database.name === 'sqlite') {
        const file = new BetterSqlite(handle.url.slice('sqlite:'.length), { readonly: true });
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
      const other = await openDatabase(handle.url);
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

    it('resolves each unit only once its change is committed, as another connection sees it', async () => {
      const group = createGroupCommit(handle.db);
      const ids = await Promise.all(Array.from({ length: 5 }, () => newOrder()));
      const seenAtResolve = await Promise.all(
        ids.map((id) =>
          group
            .run(id, (trx) =>
              trx.updateTable('orders').set({ status: 'CLOSED' }).where('id', '=', id).execute(),
            )
            .then(() => committedStatuses([id])),
        ),
      );
      expect(seenAtResolve.flat()).toEqual(ids.map(() => 'CLOSED'));
    });

    it('fails only the unit that throws; the others in its batch still commit', async () => {
      const group = createGroupCommit(handle.db);
      const ids = await Promise.all(Array.from({ length: 5 }, () => newOrder()));
      const outcomes = await Promise.allSettled(
        ids.map((id, i) =>
          group.run(id, async (trx) => {
            await trx.updateTable('orders').set({ status: 'CLOSED' }).where('id', '=', id).execute();
            if (i === 2) throw new Error('unit 2 refuses');
            return i;
          }),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('unit 2 refuses');
      const rows = await handle.db
        .selectFrom('orders')
        .select(['id', 'status'])
        .where('id', 'in', ids)
        .execute();
      const status = new Map(rows.map((r) => [r.id, r.status]));
      expect(ids.map((id) => status.get(id))).toEqual(['CLOSED', 'CLOSED', 'PENDING', 'CLOSED', 'CLOSED']);
    });

    it('credits a notified order once however many copies share a batch, with one event per copy', async () => {
      const id = await newOrder();
      const transactionId = `4209${String(serial).padStart(24, '0')}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          orders.markPaidFromNotification(id, { transactionId, paidAt: T0 + 5, cashFee: 100 }, T0 + 6),
        ),
      );
      expect(results.filter((r) => r.changed)).toHaveLength(1);
      expect(results.map((r) => r.from).sort()).toEqual([...Array(9).fill('PAID'), 'PENDING']);
      expect(await orders.findById(id)).toMatchObject({
        status: 'PAID',
        transactionId,
        paidSource: 'notify',
      });
      const events = await orders.events(id);
      expect(events.filter((e) => e.type === 'state_changed')).toHaveLength(1);
      const received = events.filter((e) => e.type === 'notification_received').map((e) => e.data);
      expect(received).toHaveLength(10);
      expect(received.filter((d) => (d as { applied: boolean }).applied)).toHaveLength(1);
      expect(received[0]).toMatchObject({ verified: true, transactionId, cashFee: 100 });
    });

    it('refuses a transaction_id that another order holds, without touching the rest of its batch', async () => {
      const [a, b, c] = [await newOrder(), await newOrder(), await newOrder()];
      const shared = `4210${String(serial).padStart(24, '0')}`;
      await orders.markPaid(a, { transactionId: shared, paidAt: T0, source: 'notify' }, T0);
      const [clash, fine] = await Promise.allSettled([
        orders.markPaidFromNotification(b, { transactionId: shared, paidAt: T0, cashFee: 100 }, T0),
        orders.markPaidFromNotification(
          c,
          { transactionId: `${shared.slice(0, -1)}9`, paidAt: T0, cashFee: 100 },
          T0,
        ),
      ]);
      expect(clash.status === 'rejected' && clash.reason).toBeInstanceOf(TransactionIdConflictError);
      expect(fine).toMatchObject({ status: 'fulfilled', value: { changed: true, from: 'PENDING' } });
      expect(await orders.findById(b)).toMatchObject({ status: 'PENDING', transactionId: null });
      expect((await orders.events(b)).map((e) => e.type)).toEqual(['created']);
    });
  });
}
