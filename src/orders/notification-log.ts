import { batchedLookUp } from '../db/batched-look-up.js';
import { batchesInFlight, writeStatement } from '../db/commit-group.js';
import type { Db, WechatNotificationsTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledInsert, compiledPerSizeClass, type InsertShape, range } from '../db/size-classes.js';
import { createBatcher } from './batcher.js';

export interface LoggedNotification {
  id: string;
  eventType: string;
  outTradeNo: string | null;
  outcome: 'paid' | 'refund_settled' | 'duplicate';
  data: object;
}

/**
 * Every v3 notification asks it first. The ids asked together share one look-up (a repeated id
 * pads it to its size class): on PostgreSQL it was one round trip per notification.
 */
const seenNotifications = compiledPerSizeClass((db: Db, size, slot) =>
  db
    .selectFrom('wechat_notifications')
    .select('id')
    .where(
      'id',
      'in',
      range(size).map((i) => slot(i, 'id') as unknown as string),
    )
    .compile(),
);

/**
 * The log's INSERT, compiled once per size class. Two copies handled at once: the first one
 * written wins, the other changes nothing.
 */
export const notificationRows: InsertShape<WechatNotificationsTable> = {
  table: 'wechat_notifications',
  columns: [
    ['id', 'text'],
    ['event_type', 'text'],
    ['out_trade_no', 'text'],
    ['outcome', 'text'],
    ['data', 'text'],
    ['received_at', 'bigint'],
  ],
  skipConflictsOn: ['id'],
};
const insertNotifications = compiledInsert(notificationRows);

/**
 * API v3 notification ids already handled. An id is written only once its notification was
 * handled for good (the order or refund update committed), so a copy that
 * arrives later is a harmless duplicate, while one whose first attempt failed is handled again.
 * Writes that arrive together share one transaction (group commit), like the order updates.
 */
export function createNotificationLog(db: Db) {
  const dialect = dialectOf(db);
  const writes = createBatcher<LoggedNotification & { now: number }, void>({
    maxConcurrent: batchesInFlight(dialect),
    async run(items) {
      // One statement: committed by itself on PostgreSQL, in the commit group on SQLite.
      await writeStatement(
        db,
        insertNotifications(
          db,
          dialect,
          items.map((n) => ({
            id: n.id,
            event_type: n.eventType,
            out_trade_no: n.outTradeNo,
            outcome: n.outcome,
            data: JSON.stringify(n.data),
            received_at: n.now,
          })),
        ),
      );
      return items.map(() => undefined);
    },
  });

  const seen = batchedLookUp<{ id: string }>(db, seenNotifications, (row) => row.id);

  return {
    async has(id: string): Promise<boolean> {
      return (await seen(id)) !== undefined;
    },
    record(entry: LoggedNotification, now: number): Promise<void> {
      return writes.submit({ ...entry, now });
    },
    list() {
      return db.selectFrom('wechat_notifications').selectAll().orderBy('received_at').execute();
    },
  };
}

export type NotificationLog = ReturnType<typeof createNotificationLog>;
