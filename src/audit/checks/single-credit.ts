import type { AuditCheck } from '../audit.js';
import { changesInto } from './events.js';

/** A second state change into PAID for one order is a second credit: the money rule broken. */
export const singleCredit: AuditCheck = {
  name: 'single-credit',
  description: 'no order became PAID more than once (one state change into PAID per order)',
  async findings(db) {
    const rows = await db
      .selectFrom('order_events')
      .select((eb) => ['order_id', eb.fn.countAll<number>().as('n')])
      .where((eb) => changesInto(db, eb, 'PAID'))
      .groupBy('order_id')
      .having((eb) => eb.fn.countAll(), '>', 1)
      .execute();
    return rows.map((r) => ({ id: r.order_id, detail: `credited ${Number(r.n)} times` }));
  },
};
