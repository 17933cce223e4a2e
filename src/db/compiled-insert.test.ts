import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { notificationRows } from '../orders/notification-log.js';
import { insertOrders, newOrderRow } from '../orders/order-row.js';
import { evidenceRow, insertEvidence } from '../orders/payment-change.js';
import type { WechatNotificationsTable } from './database.js';
import { compiledInsert } from './size-classes.js';

const insertNotifications = compiledInsert({ ...notificationRows, returning: true });

/** An upsert that takes the new outcome and time, but only over an older row. */
const upsertNotifications = compiledInsert<WechatNotificationsTable>({
  ...notificationRows,
  skipConflictsOn: undefined,
  updateConflictsOn: {
    columns: ['id'],
    set: { outcome: sql.ref('excluded.outcome'), received_at: sql.ref('excluded.received_at') },
    where: sql`wechat_notifications.received_at < excluded.received_at`,
  },
  returning: true,
});

let serial = 0;
function notification(overrides: Partial<WechatNotificationsTable> = {}): WechatNotificationsTable {
  serial += 1;
  return {
    id: `n-${serial}`,
    event_type: 'TRANSACTION.SUCCESS',
    out_trade_no: `OTN${serial}`,
    outcome: 'paid',
    data: '{}',
    received_at: 1_764_633_600_123 + serial,
    ...overrides,
  };
}

for (const database of testDatabases()) {
  describe(`compiledInsert on ${database.name}`, () => {
    let handle: TestDbHandle;
    const count = async () =>
      Number(
        (
          await handle.db
            .selectFrom('wechat_notifications')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      handle = await database.openMigrated();
    });
    afterAll(() => handle.close());

    it('writes exactly the rows of a batch, for sizes on both sides of each class boundary', async () => {
      for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 17]) {
        const rows = Array.from({ length: n }, () => notification());
        const before = await count();
        const { rows: written } = await handle.db.executeQuery<WechatNotificationsTable>(
          insertNotifications(handle.db, database.name, rows),
        );
        // The padding rows (NULL in every column) must never be written: SQLite would accept a
        // NULL text primary key, so a missing filter shows up here as extra rows.
        expect(await count()).toBe(before + n);
        expect(written.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
      }
    });

    it('keeps the types of what it writes: bigints, NULLs and text', async () => {
      const row = notification({ out_trade_no: null, received_at: 1_764_633_600_999, data: '{"a":"¥ 元"}' });
      await handle.db.executeQuery(insertNotifications(handle.db, database.name, [row]));
      const stored = await handle.db
        .selectFrom('wechat_notifications')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      expect({ ...stored, received_at: Number(stored.received_at) }).toEqual(row);
    });

    it('skips a row whose key is taken, by a stored row or by an earlier row of the same batch', async () => {
      const stored = notification({ outcome: 'paid' });
      await handle.db.executeQuery(insertNotifications(handle.db, database.name, [stored]));
      const again = { ...stored, outcome: 'duplicate' };
      const fresh = notification();
      const twin = { ...fresh, outcome: 'duplicate' };
      const before = await count();
      await handle.db.executeQuery(insertNotifications(handle.db, database.name, [again, fresh, twin]));
      expect(await count()).toBe(before + 1);
      const outcomes = await handle.db
        .selectFrom('wechat_notifications')
        .select(['id', 'outcome'])
        .where('id', 'in', [stored.id, fresh.id])
        .orderBy('id')
        .execute();
      expect(outcomes).toEqual(
        [
          { id: stored.id, outcome: 'paid' },
          { id: fresh.id, outcome: 'paid' },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    });

    it('updates a taken row where its condition holds, leaves it where not, and returns only rows written', async () => {
      const older = notification({ outcome: 'paid', received_at: 1000 });
      const newer = notification({ outcome: 'paid', received_at: 5000 });
      await handle.db.executeQuery(insertNotifications(handle.db, database.name, [older, newer]));
      const fresh = notification({ outcome: 'paid', received_at: 3000 });
      const { rows } = await handle.db.executeQuery<WechatNotificationsTable>(
        upsertNotifications(handle.db, database.name, [
          { ...older, outcome: 'duplicate', received_at: 3000 },
          { ...newer, outcome: 'duplicate', received_at: 3000 },
          fresh,
        ]),
      );
      expect(rows.map((r) => r.id).sort()).toEqual([older.id, fresh.id].sort());
      const stored = await handle.db
        .selectFrom('wechat_notifications')
        .select(['id', 'outcome', 'received_at', 'event_type'])
        .where('id', 'in', [older.id, newer.id, fresh.id])
        .execute();
      const byId = new Map(stored.map((r) => [r.id, { ...r, received_at: Number(r.received_at) }]));
      // Only the columns in `set` change; the rest stay as stored.
      expect(byId.get(older.id)).toMatchObject({
        outcome: 'duplicate',
        received_at: 3000,
        event_type: older.event_type,
      });
      expect(byId.get(newer.id)).toMatchObject({ outcome: 'paid', received_at: 5000 });
      expect(byId.get(fresh.id)).toMatchObject({ outcome: 'paid', received_at: 3000 });
    });

    it('returns only the columns it is asked for', async () => {
      const insertReturningIds = compiledInsert<WechatNotificationsTable>({
        ...notificationRows,
        returning: ['id'],
      });
      const rows = [notification(), notification()];
      const { rows: written } = await handle.db.executeQuery(
        insertReturningIds(handle.db, database.name, rows),
      );
      expect(written).toHaveLength(2);
      expect(written.map((r) => Object.keys(r as object))).toEqual([['id'], ['id']]);
    });

    it('refuses a row whose first column is NULL, before anything is sent', async () => {
      const before = await count();
      expect(() =>
        insertNotifications(handle.db, database.name, [
          notification(),
          notification({ id: null as unknown as string }),
        ]),
      ).toThrow(/wechat_notifications\.id must not be NULL/);
      expect(await count()).toBe(before);
    });
  });
}

describe('compiledInsert statements', () => {
  it('refuses a shape that both skips and updates its conflicts, when it is defined', () => {
    expect(() =>
      compiledInsert<WechatNotificationsTable>({
        ...notificationRows,
        updateConflictsOn: { columns: ['id'], set: { outcome: sql.ref('excluded.outcome') } },
      }),
    ).toThrow(/either skips or updates its conflicts/);
  });

  it('has one text per size class, and a new text past a class boundary', async () => {
    const [database] = testDatabases();
    const handle = await database!.openMigrated();
    try {
      const text = (n: number) =>
        insertNotifications(
          handle.db,
          'sqlite',
          Array.from({ length: n }, () => notification()),
        ).sql;
      expect(new Set([5, 6, 7, 8].map(text)).size).toBe(1);
      expect(text(9)).not.toBe(text(8));
      expect(text(9)).toBe(text(16));
    } finally {
      await handle.close();
    }
  });

  it('writes every column of a new order and of a payment evidence row', () => {
    const order = newOrderRow(
      {
        id: 'o',
        userId: 'u',
        openid: 'op',
        outTradeNo: 'n',
        sku: 's',
        quantity: 1,
        description: 'd',
        amount: 1,
        currency: 'CNY',
        expiresAt: 1,
      },
      1,
    );
    expect([...insertOrders.columns].sort()).toEqual(Object.keys(order).sort());
    const evidence = evidenceRow(
      'o',
      {
        transactionId: 't',
        outTradeNo: 'n',
        source: 'notification',
        totalFee: 1,
        currency: 'CNY',
        appid: 'a',
        mchId: 'm',
        paidAt: 1,
        raw: {},
      },
      'PENDING',
      1,
    );
    expect([...insertEvidence.columns].sort()).toEqual(Object.keys(evidence).sort());
  });
});
