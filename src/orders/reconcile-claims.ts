import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import type { Order } from './order.js';
import { toOrder } from './order-row.js';

/** The reconciler's side of the orders table: leases, so instances share the backlog. */
export function createReconcileClaims(db: Db) {
  const postgres = dialectOf(db) === 'postgres';
  return {
    /**
     * Leases up to `limit` PENDING orders created before `createdBefore` whose lease is free, for
     * one reconciler cycle. Orders never queried come first, then the least recently queried, so
     * a few stubborn orders cannot starve the rest. On PostgreSQL, FOR UPDATE SKIP LOCKED lets
     * two instances claim at once without waiting on or taking each other's rows.
     */
    async claimForReconcile(claim: {
      now: number;
      createdBefore: number;
      limit: number;
      leaseMs: number;
      owner: string;
    }): Promise<Order[]> {
      if (claim.limit <= 0) return [];
      return db.transaction().execute(async (trx) => {
        const candidates = trx
          .selectFrom('orders')
          .select('id')
          .where('status', '=', 'PENDING')
          .where('created_at', '<', claim.createdBefore)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', claim.now)]))
          .orderBy(sql`coalesce(last_queried_at, 0)`)
          .orderBy('created_at')
          .orderBy('id')
          .limit(claim.limit);
        const ids = (await (postgres ? candidates.forUpdate().skipLocked() : candidates).execute()).map(
          (r) => r.id,
        );
        if (ids.length === 0) return [];
        const rows = await trx
          .updateTable('orders')
          .set({ lease_until: claim.now + claim.leaseMs, lease_owner: claim.owner })
          .where('id', 'in', ids)
          .returningAll()
          .execute();
        const byId = new Map(rows.map((r) => [r.id, toOrder(r)]));
        return ids.flatMap((oid) => byId.get(oid) ?? []);
      });
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
