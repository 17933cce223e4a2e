import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { type BacklogClaim, leaseBacklog } from '../db/lease-backlog.js';
import { type IdempotencyClaim, recordResource } from '../idempotency/idempotency-store.js';
import { refundObject } from '../webhooks/objects.js';
import type { Outbox } from '../webhooks/outbox.js';
import {
  MAX_REFUNDS_PER_ORDER,
  type Order,
  type OrderStatus,
  statusesAllowing,
  TRANSITIONS,
} from './order.js';
import { orderEventRow, toOrder } from './order-row.js';
import { type FinalRefundStatus, type Refund, toRefund } from './refund.js';

export type RefundStore = ReturnType<typeof createRefundStore>;

type Tx = Transaction<Database>;

/** Why a refund could not be reserved; the order and its refunds are unchanged. */
export type ReserveRefusal =
  | { kind: 'order_not_found' }
  | { kind: 'not_refundable'; status: OrderStatus }
  | { kind: 'limit_reached'; count: number }
  | { kind: 'exceeds_paid'; left: number };

export interface NewRefund {
  id: string;
  orderId: string;
  outRefundNo: string;
  amount: number;
  reason: string;
  requestedBy: string;
}

/**
 * Refunds and the order's refund ledger (refunded_fen, refund_count). The cap is the database's:
 * a refund is reserved by ONE conditional UPDATE of the order that names the expected state
 * (`refunded_fen + amount <= amount AND refund_count < 50 AND status IN (…)`), in the same
 * transaction as the refund row. Twenty requests at once, on one instance or several, cannot
 * refund more than was paid: each UPDATE sees the row the one before it committed.
 */
export function createRefundStore(db: Db, outbox: Outbox) {
  const postgres = dialectOf(db) === 'postgres';
  // The states a refund may be asked for in: those the transition table lets a refund start from.
  const refundable = statusesAllowing('refund');

  async function event(
    trx: Tx,
    orderId: string,
    type: 'refund_requested' | 'refund_settled' | 'state_changed',
    data: object,
    now: number,
  ) {
    await trx
      .insertInto('order_events')
      .values(orderEventRow(orderId, type, data, now))
      .execute();
  }

  async function refusal(trx: Tx, orderId: string): Promise<ReserveRefusal> {
    const row = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
    if (!row) return { kind: 'order_not_found' };
    const status = row.status as OrderStatus;
    if (!refundable.includes(status)) return { kind: 'not_refundable', status };
    if (row.refund_count >= MAX_REFUNDS_PER_ORDER) return { kind: 'limit_reached', count: row.refund_count };
    return { kind: 'exceeds_paid', left: row.amount - row.refunded_fen };
  }

  return {
    /**
     * Reserves `amount` on the order and saves the refund (PROCESSING, out_refund_no fixed) with a
     * 'refund_requested' event, all in one transaction, before WeChat is called. With an
     * Idempotency-Key claim, the key records the refund in that same transaction.
     */
    async reserve(
      refund: NewRefund,
      now: number,
      claim?: IdempotencyClaim,
    ): Promise<{ ok: true; refund: Refund; order: Order } | { ok: false; refusal: ReserveRefusal }> {
      return db.transaction().execute(async (trx) => {
        const reserved = await trx
          .updateTable('orders')
          .set({
            refunded_fen: sql`refunded_fen + ${refund.amount}`,
            refund_count: sql`refund_count + 1`,
            updated_at: now,
          })
          .where('id', '=', refund.orderId)
          .where('status', 'in', refundable)
          .where(sql<boolean>`refunded_fen + ${refund.amount} <= amount`)
          .where('refund_count', '<', MAX_REFUNDS_PER_ORDER)
          .returningAll()
          .executeTakeFirst();
        if (!reserved) return { ok: false as const, refusal: await refusal(trx, refund.orderId) };
        const row = await trx
          .insertInto('refunds')
          .values({
            id: refund.id,
            order_id: refund.orderId,
            out_refund_no: refund.outRefundNo,
            amount: refund.amount,
            reason: refund.reason,
            status: 'PROCESSING',
            refund_id: null,
            last_error: null,
            attempts: 0,
            requested_by: refund.requestedBy,
            created_at: now,
            updated_at: now,
            settled_at: null,
            last_queried_at: null,
            lease_until: null,
            lease_owner: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (claim) await recordResource(trx, claim, refund.id);
        await event(
          trx,
          refund.orderId,
          'refund_requested',
          { outRefundNo: refund.outRefundNo, amount: refund.amount, refundedAmount: reserved.refunded_fen },
          now,
        );
        return { ok: true as const, refund: toRefund(row), order: toOrder(reserved) };
      });
    },

    /** Counts a refund call about to be sent (so the history shows every retry). */
    async countAttempt(id: string, now: number): Promise<void> {
      await db
        .updateTable('refunds')
        .set({ attempts: sql`attempts + 1`, updated_at: now })
        .where('id', '=', id)
        .execute();
    },

    /** WeChat accepted the refund: its refund_id, and no error any more. Only while PROCESSING. */
    async markAccepted(id: string, refundId: string, now: number): Promise<Refund | undefined> {
      const row = await db
        .updateTable('refunds')
        .set({ refund_id: refundId, last_error: null, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'PROCESSING')
        .returningAll()
        .executeTakeFirst();
      return row && toRefund(row);
    },

    /** Keeps why the last call did not settle the refund; it stays PROCESSING and is retried. */
    async recordError(id: string, error: string, now: number): Promise<Refund | undefined> {
      const row = await db
        .updateTable('refunds')
        .set({ last_error: error, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'PROCESSING')
        .returningAll()
        .executeTakeFirst();
      return row && toRefund(row);
    },

    /**
     * Ends a PROCESSING refund, once: one conditional update names PROCESSING, so a notification
     * and a query racing each other settle it exactly once (`changed: false` for the loser).
     * SUCCESS moves the order (the transition table's `refund` or `partial_refund`, by whether the
     * successful refunds now add up to the amount); CLOSED gives its amount back to the order;
     * CHANGE leaves the order as it was. The refund.succeeded or refund.failed webhook is written
     * in the same transaction.
     */
    async settle(
      id: string,
      outcome: { status: FinalRefundStatus; refundId?: string; error?: string },
      now: number,
    ): Promise<{ changed: boolean; refund: Refund; order: Order }> {
      const settled = await db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('refunds')
          .select('order_id')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!current) throw new Error(`refund ${id} does not exist`);
        // Lock the order first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers),
        // so two refunds of one order settling at once each see the other's SUCCESS.
        const orderQuery = trx.selectFrom('orders').selectAll().where('id', '=', current.order_id);
        const before = await (postgres ? orderQuery.forUpdate() : orderQuery).executeTakeFirstOrThrow();
        const updated = await trx
          .updateTable('refunds')
          .set({
            status: outcome.status,
            settled_at: now,
            updated_at: now,
            ...(outcome.refundId && { refund_id: outcome.refundId }),
            ...(outcome.error !== undefined && { last_error: outcome.error }),
          })
          .where('id', '=', id)
          .where('status', '=', 'PROCESSING')
          .returningAll()
          .executeTakeFirst();
        if (!updated) {
          const refund = await trx
            .selectFrom('refunds')
            .selectAll()
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          return { changed: false, refund: toRefund(refund), order: toOrder(before) };
        }
        const refund = toRefund(updated);
        await event(
          trx,
          refund.orderId,
          'refund_settled',
          { outRefundNo: refund.outRefundNo, status: refund.status, amount: refund.amount },
          now,
        );
        let order = toOrder(before);
        if (refund.status === 'CLOSED') {
          const released = await trx
            .updateTable('orders')
            .set({ refunded_fen: sql`refunded_fen - ${refund.amount}`, updated_at: now })
            .where('id', '=', refund.orderId)
            .returningAll()
            .executeTakeFirstOrThrow();
          order = toOrder(released);
        }
        if (refund.status === 'SUCCESS') {
          const { total } = await trx
            .selectFrom('refunds')
            .select(sql<number>`coalesce(sum(amount), 0)`.as('total'))
            .where('order_id', '=', refund.orderId)
            .where('status', '=', 'SUCCESS')
            .executeTakeFirstOrThrow();
          const name = Number(total) >= before.amount ? 'refund' : 'partial_refund';
          const to = TRANSITIONS[name].to;
          const moved = await trx
            .updateTable('orders')
            .set({ status: to, updated_at: now })
            .where('id', '=', refund.orderId)
            .where('status', 'in', statusesAllowing(name))
            .returningAll()
            .executeTakeFirst();
          if (moved) {
            order = toOrder(moved);
            if (before.status !== to) {
              await event(
                trx,
                refund.orderId,
                'state_changed',
                { from: before.status, to, refunded: Number(total) },
                now,
              );
            }
          }
        }
        const webhook = refund.status === 'SUCCESS' ? 'refund.succeeded' : 'refund.failed';
        await outbox.record(trx, webhook, refundObject(refund), now, {
          orderId: refund.orderId,
          refundId: refund.id,
        });
        return { changed: true, refund, order };
      });
      if (settled.changed) outbox.committed();
      return settled;
    },

    async findById(id: string): Promise<Refund | undefined> {
      const row = await db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRefund(row);
    },

    async findByOutRefundNo(outRefundNo: string): Promise<Refund | undefined> {
      const row = await db
        .selectFrom('refunds')
        .selectAll()
        .where('out_refund_no', '=', outRefundNo)
        .executeTakeFirst();
      return row && toRefund(row);
    },

    /** The order's refunds, oldest first. */
    async listForOrder(orderId: string): Promise<Refund[]> {
      const rows = await db
        .selectFrom('refunds')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toRefund);
    },

    /**
     * Leases PROCESSING refunds saved before `createdBefore`, as the order reconciler leases
     * orders (lease-backlog.ts), stamping the claim as their last query.
     */
    async claimForReconcile(claim: BacklogClaim): Promise<Refund[]> {
      const rows = await leaseBacklog(db, 'refunds', 'PROCESSING', claim, { stampQueried: true });
      return rows.map(toRefund);
    },
  };
}
