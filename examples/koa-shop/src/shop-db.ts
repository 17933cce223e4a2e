import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

/** The shop's own tables: weapp-pay never sees them. Prices are in fen (1 yuan = 100 fen). */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price_fen INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, sku TEXT NOT NULL REFERENCES products(sku), quantity INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL, openid TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'unpaid',
    payment_id TEXT, created_at TEXT NOT NULL, paid_at TEXT);
  -- One row per webhook event applied: the event id is weapp-pay's, stable across retries and resends.
  CREATE TABLE IF NOT EXISTS webhook_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at TEXT NOT NULL);
  -- The unique order id is what makes shipping happen once.
  CREATE TABLE IF NOT EXISTS shipments (order_id TEXT NOT NULL UNIQUE REFERENCES orders(id), shipped_at TEXT NOT NULL);
`;

const SAMPLE_PRODUCTS = [
  { sku: 'coffee', name: 'Americano', price_fen: 1 },
  { sku: 'beans', name: 'Coffee beans, 250 g', price_fen: 6800 },
];

export interface ShopOrder {
  id: string;
  sku: string;
  quantity: number;
  amount_fen: number;
  openid: string;
  status: 'unpaid' | 'paid';
  payment_id: string | null;
  created_at: string;
  paid_at: string | null;
}

export interface PaidPayment {
  eventId: string;
  eventType: string;
  /** weapp-pay's out_trade_no: the shop passed its own order id. */
  orderId: string;
  amountFen: number;
  paymentId: string;
}

export type ShopDb = ReturnType<typeof openShopDb>;

export function openShopDb(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const addProduct = db.prepare(
    'INSERT INTO products (sku, name, price_fen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  for (const p of SAMPLE_PRODUCTS) addProduct.run(p.sku, p.name, p.price_fen);

  const findOrder = db.prepare<[string], ShopOrder>('SELECT * FROM orders WHERE id = ?');
  const rememberEvent = db.prepare(
    'INSERT INTO webhook_events (id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
  );
  const markPaid = db.prepare(
    "UPDATE orders SET status = 'paid', paid_at = ?, payment_id = ? WHERE id = ? AND status = 'unpaid'",
  );
  const ship = db.prepare(
    'INSERT INTO shipments (order_id, shipped_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );

  return {
    products: () => db.prepare('SELECT sku, name, price_fen FROM products ORDER BY sku').all(),

    /** A new unpaid order, priced from the shop's own table; undefined for an unknown sku. */
    createOrder(sku: string, quantity: number, openid: string): ShopOrder | undefined {
      const product = db
        .prepare<[string], { price_fen: number }>('SELECT price_fen FROM products WHERE sku = ?')
        .get(sku);
      if (!product) return undefined;
      // 'ks' + 24 hex: within WeChat's out_trade_no rule (6 to 32 letters, digits, _-|*).
      const id = `ks${randomBytes(12).toString('hex')}`;
      db.prepare(
        'INSERT INTO orders (id, sku, quantity, amount_fen, openid, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(id, sku, quantity, product.price_fen * quantity, openid, new Date().toISOString());
      return findOrder.get(id);
    },

    findOrder: (id: string) => findOrder.get(id),
    shipmentsOf: (orderId: string) => db.prepare('SELECT * FROM shipments WHERE order_id = ?').all(orderId),

    /**
     * Applies payment.succeeded once: the event id, the order marked paid and the shipment are
     * written in ONE transaction, so a crash leaves all or nothing and a redelivery finds the
     * event id taken. 'duplicate' and 'applied' are both answered 2xx; 'mismatch' is a payment
     * this shop never asked for, or for another amount (it stays unpaid; someone must look).
     */
    applyPayment: db.transaction((paid: PaidPayment): 'applied' | 'duplicate' | 'mismatch' => {
      const now = new Date().toISOString();
      if (rememberEvent.run(paid.eventId, paid.eventType, now).changes === 0) return 'duplicate';
      const order = findOrder.get(paid.orderId);
      if (!order || order.amount_fen !== paid.amountFen) return 'mismatch';
      markPaid.run(now, paid.paymentId, order.id);
      ship.run(order.id, now);
      return 'applied';
    }),

    close: () => db.close(),
  };
}
