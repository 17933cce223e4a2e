import type { Transaction } from 'kysely';
import { writeStatement, writeTransaction } from '../db/commit-group.js';
import type { Database, Db, OrdersTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import { caseById, compiledPerSizeClass, padWithLast, range } from '../db/size-classes.js';
import { runTogether, together } from '../db/together.js';
import { AppError } from '../errors.js';
import { recordResources } from '../idempotency/idempotency-store.js';
import { createBatcher } from './batcher.js';
import type { Order } from './order.js';
import {
  insertOrderEvents,
  insertOrders,
  type NewOrder,
  newOrderRow,
  orderEventRow,
  toOrder,
} from './order-row.js';
import { OrderNotFoundError } from './order-store-errors.js';

/** The batch's prepay_ids, one UPDATE per batch (a text per size class, see size-classes.ts). */
type Writer = Db | Transaction<Database>;

const prepayUpdate = compiledPerSizeClass((trx: Writer, size, slot) =>
  trx
    .updateTable('orders')
    .set({
      prepay_id: caseById(size, slot, 'prepayId', 'text'),
      prepay_expires_at: caseById(size, slot, 'prepayExpiresAt', 'bigint'),
      updated_at: caseById(size, slot, 'now', 'bigint'),
    })
    .where(
      'id',
      'in',
      range(size).map((i) => slot(i, 'id') as unknown as string),
    )
    .returningAll()
    .compile(),
);

/**
 * The two durable writes of order creation: the order (with its unifiedorder request and
 * 'created' event), then its prepay_id (with a 'prepaid' event). Requests that arrive together
 * share one transaction for each (group commit through batcher.ts); each caller resolves only
 * after its commit.
 */
export function createOrderCreationWrites(db: Db, concurrency: { maxConcurrent: number }) {
  const dialect = dialectOf(db);
  // Order creation, batched the same way: its two writes (the order, then its prepay_id) are
  // each one transaction shared by every request that arrives together.
  const inserts = createBatcher<{ row: NewOrder; now: number }, Order>({
    ...concurrency,
    run: (items) =>
      outTradeNoUnique(items, () =>
        writeTransaction(db, async (trx) => {
          // Each order's Idempotency-Key learns its order in the order's own commit, one
          // statement for the batch. Each row it touches is held by that one attempt, so two
          // batches never wait on each other's key rows.
          await recordResources(
            trx,
            items.flatMap(({ row }) =>
              row.idempotencyClaim ? [{ claim: row.idempotencyClaim, resourceId: row.id }] : [],
            ),
          );
          // The orders, then their events (SQLite checks each statement's foreign keys as it
          // ends); one statement on PostgreSQL, returning the orders (together.ts).
          const rows = await runTogether<OrdersTable>(
            trx,
            dialect,
            [
              insertOrders(
                trx,
                dialect,
                items.map((i) => newOrderRow(i.row, i.now)),
              ),
              insertOrderEvents(
                trx,
                dialect,
                items.map(({ row, now }) => {
                  const { outTradeNo, sku, quantity, amount, currency } = row;
                  return orderEventRow(
                    row.id,
                    'created',
                    { outTradeNo, sku, quantity, amount, currency },
                    now,
                  );
                }),
              ),
            ],
            0,
          );
          const byId = new Map(rows.map((r) => [r.id, r]));
          return items.map((i) => toOrder(byId.get(i.row.id)!));
        }),
      ),
  });
  const prepays = createBatcher<
    { id: string; prepay: { prepayId: string; prepayExpiresAt: number }; now: number },
    Order
  >({
    ...concurrency,
    key: (p) => p.id,
    async run(items) {
      // An order named twice in a batch (two refreshes at once) is written once, with the last
      // of them, as one UPDATE after the other would have left it; both callers then answer
      // with what is stored, and each has its 'prepaid' event. RETURNING: nobody reads the order
      // again.
      const latest = [...new Map(items.map((item) => [item.id, item])).values()];
      const padded = padWithLast(latest);
      const update = prepayUpdate(db, dialect, latest.length).bind((i, key) => {
        const { id, prepay, now } = padded[i]!;
        if (key === 'id') return id;
        if (key === 'now') return now;
        return prepay[key as keyof typeof prepay];
      });
      const events = insertOrderEvents(
        db,
        dialect,
        items.map(({ id, prepay, now }) => orderEventRow(id, 'prepaid', prepay, now)),
      );
      const saved = (rows: readonly OrdersTable[]) => {
        const byId = new Map(rows.map((row) => [row.id, toOrder(row)]));
        return items.map(({ id }) => {
          const order = byId.get(id);
          if (!order) throw new OrderNotFoundError(id);
          return order;
        });
      };
      if (dialect === 'postgres') {
        // One statement, committed by itself (together.ts): the events' foreign key fails it
        // if an order is missing, and the batcher then reruns each alone, so that one fails.
        const [both] = together(dialect, [update, events], 0);
        try {
          return saved((await writeStatement<OrdersTable>(db, both!)).rows);
        } catch (err) {
          if (items.length === 1 && isForeignKeyViolation(err)) throw new OrderNotFoundError(items[0]!.id);
          throw err;
        }
      }
      // SQLite: the UPDATE, then the events once the orders are known to exist.
      return writeTransaction(db, async (trx) => {
        const orders = saved((await trx.executeQuery<OrdersTable>(update)).rows);
        await trx.executeQuery(events);
        return orders;
      });
    },
  });

  return {
    insert: (row: NewOrder, now: number): Promise<Order> => inserts.submit({ row, now }),
    savePrepay: (
      id: string,
      prepay: { prepayId: string; prepayExpiresAt: number },
      now: number,
    ): Promise<Order> => prepays.submit({ id, prepay, now }),
  };
}

const OUT_TRADE_NO_KEY = { postgres: 'orders_out_trade_no_key', sqlite: 'orders.out_trade_no' };

/**
 * A shop's own out_trade_no (POST /v1/payments) may already be taken: the unique index has the
 * last word. A batch that fails is rerun one order at a time (batcher.ts), so the error then
 * names the right order.
 */
async function outTradeNoUnique<T>(items: { row: NewOrder }[], write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (items.length === 1 && isUniqueViolation(err, OUT_TRADE_NO_KEY)) {
      const taken = items[0]!.row.outTradeNo;
      throw new AppError(
        'OUT_TRADE_NO_TAKEN',
        `out_trade_no ${taken} is already used by another order: WeChat needs a unique out_trade_no for each.`,
        { cause: err },
      );
    }
    throw err;
  }
}
