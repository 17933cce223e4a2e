import type { ExpressionBuilder } from 'kysely';
import type { Database, Db } from '../../db/database.js';
import { jsonText } from '../sql.js';

type EventsEb = ExpressionBuilder<Database, 'order_events'>;

/**
 * The `state_changed` events into `status` (the `to` of their payload). Every transition writes
 * one: paidChange for PAID (src/orders/payment-change.ts), the store's transition() for the rest.
 */
export function changesInto(db: Db, eb: EventsEb, status: string) {
  return eb.and([
    eb('order_events.type', '=', 'state_changed'),
    eb(jsonText(db, 'order_events.data', 'to'), '=', status),
  ]);
}
