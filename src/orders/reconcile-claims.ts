import type { Db } from '../db/database.js';
import { type BacklogClaim, leaseBacklog } from '../db/lease-backlog.js';
import type { Order } from './order.js';
import { toOrder } from './order-row.js';

/** The reconciler's side of the orders table: leases, so instances share the backlog. */
export function createReconcileClaims(db: Db) {
  return {
    /** Leases PENDING orders for one reconciler cycle (lease-backlog.ts says how). */
    async claimForReconcile(claim: BacklogClaim): Promise<Order[]> {
      const rows = await leaseBacklog(db, 'orders', 'PENDING', claim, { stampQueried: false });
      return rows.map(toOrder);
    },

    /** Gives the lease back early, so the next cycle (any instance) may take the order. */
    async release(id: string): Promise<void> {
      await db
        .updateTable('orders')
        .set({ lease_until: null, lease_owner: null })
        .where('id', '=', id)
        .execute();
    },

    async touchQueried(id: string, now: number): Promise<void> {
      await db.updateTable('orders').set({ last_queried_at: now }).where('id', '=', id).execute();
    },
  };
}
