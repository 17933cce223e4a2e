import type { AuditCheck } from '../audit.js';

/**
 * Two orders holding one transaction_id would be one payment credited twice. The unique
 * constraint orders_transaction_id_key refuses it on both databases; this check is the proof for
 * a database restored from elsewhere, or one whose constraint someone dropped.
 */
export const transactionIdUnique: AuditCheck = {
  name: 'transaction-id-unique',
  description: 'no transaction_id is held by two orders',
  async findings(db) {
    const shared = db
      .selectFrom('orders')
      .select('transaction_id')
      .where('transaction_id', 'is not', null)
      .groupBy('transaction_id')
      .having((eb) => eb.fn.countAll(), '>', 1);
    const rows = await db
      .selectFrom('orders')
      .select(['id', 'transaction_id'])
      .where('transaction_id', 'in', shared)
      .orderBy('id')
      .execute();
    return rows.map((row) => {
      const others = rows.filter((r) => r.transaction_id === row.transaction_id && r.id !== row.id);
      return {
        id: row.id,
        detail: `transaction_id ${row.transaction_id} is also held by order ${others.map((r) => r.id).join(', ')}`,
      };
    });
  },
};
