// The storage both anchors share: one SQLite transaction per notification (look-up, conditional
// UPDATE, 'state_changed' and 'notification_received' events), committed with WAL and
// synchronous=FULL before the caller replies. No batching: that is what the anchors stand for.
// It writes the same rows and events as weapp-pay, so the bench's database check applies.
import Database from 'better-sqlite3';

/** Opens the bench's SQLite file; returns `settle(fields, now)` → true when the order is PAID. */
export function openDurableSettle(file) {
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const findOrder = db.prepare('select id, status, amount from orders where out_trade_no = ?');
  const markPaid = db.prepare(
    `update orders set status = 'PAID', transaction_id = ?, paid_at = ?, paid_source = 'notify', updated_at = ?
     where id = ? and status = 'PENDING'`,
  );
  const addEvent = db.prepare(
    'insert into order_events (order_id, type, data, created_at) values (?, ?, ?, ?)',
  );
  const settle = db.transaction((fields, now) => {
    const order = findOrder.get(fields.out_trade_no);
    if (!order) return false;
    if (order.status === 'PAID') return true;
    if (order.status !== 'PENDING' || String(order.amount) !== fields.total_fee) return false;
    if (markPaid.run(fields.transaction_id, now, now, order.id).changes !== 1) return false;
    const change = { from: 'PENDING', to: 'PAID', transactionId: fields.transaction_id, paidAt: now };
    addEvent.run(order.id, 'state_changed', JSON.stringify(change), now);
    addEvent.run(
      order.id,
      'notification_received',
      JSON.stringify({ transactionId: fields.transaction_id }),
      now,
    );
    return true;
  });
  return { settle, close: () => db.close() };
}

/** WeChat's v2 canonical string: non-empty fields but `sign`, sorted by name, then the key. */
export function canonical(fields, key) {
  const text = Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
  return `${text}&key=${key}`;
}
