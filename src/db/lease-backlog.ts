import { type Selectable, sql } from 'kysely';
import type { Database, Db } from './database.js';
import { dialectOf } from './dialect-of.js';

/** What a reconciler asks for: up to `limit` rows saved before `createdBefore`, for `leaseMs`. */
export interface BacklogClaim {
  now: number;
  createdBefore: number;
  limit: number;
  leaseMs: number;
  owner: string;
}

/**
 * Leases up to `claim.limit` rows of `table` in `status` whose lease is free, for one reconciler
 * cycle, and returns them in the order they were picked. Rows never queried come first, then
 * the least recently queried, so a few stubborn rows cannot starve the rest. On PostgreSQL, FOR
 * UPDATE SKIP LOCKED lets two instances claim at once without waiting on or taking each other's
 * rows. `stampQueried` also records the claim as the row's last query (the refund reconciler's
 * way; the order reconciler stamps after it asked).
 */
export async function leaseBacklog<T extends 'orders' | 'refunds'>(
  db: Db,
  table: T,
  status: string,
  claim: BacklogClaim,
  options: { stampQueried: boolean },
): Promise<Selectable<Database[T]>[]> {
  if (claim.limit <= 0) return [];
  const postgres = dialectOf(db) === 'postgres';
  return db.transaction().execute(async (trx) => {
    const candidates = trx
      .selectFrom(table as 'orders' | 'refunds')
      .select('id')
      .where('status', '=', status)
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
    const rows = (await trx
      .updateTable(table as 'orders' | 'refunds')
      .set({
        lease_until: claim.now + claim.leaseMs,
        lease_owner: claim.owner,
        ...(options.stampQueried && { last_queried_at: claim.now }),
      })
      .where('id', 'in', ids)
      .returningAll()
      .execute()) as Selectable<Database[T]>[];
    const byId = new Map(rows.map((r) => [(r as { id: string }).id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  });
}
