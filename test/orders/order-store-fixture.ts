/**
 * A migrated database, an order store and one user for a storage suite, opened in beforeAll and
 * closed in afterAll of the enclosing describe:
 *
 *   const s = orderStoreFixture(database, 'grp');
 *   it('…', async () => { const order = await s.newOrder(); … s.orders … s.handle … });
 */
import { afterAll, beforeAll } from 'vitest';
import type { Order } from '../../src/orders/order.js';
import { createOrderStore, type OrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import type { TestDatabase, TestDbHandle } from '../db/dialects.js';

export const T0 = Date.UTC(2024, 0, 1);

export interface OrderStoreFixture {
  readonly handle: TestDbHandle;
  readonly orders: OrderStore;
  /** How many orders this fixture has made: unique per suite, handy for transaction ids. */
  readonly serial: number;
  /** A PENDING order of 100 fen, id `<tag>-<dialect>-<serial>`, out_trade_no `<TAG><dialect><serial>`. */
  newOrder(): Promise<Order>;
}

export function orderStoreFixture(database: TestDatabase, tag: string): OrderStoreFixture {
  let handle: TestDbHandle | undefined;
  let orders: OrderStore | undefined;
  let userId = '';
  let serial = 0;
  const openid = `o-${tag}`;

  beforeAll(async () => {
    handle = await database.openMigrated();
    orders = createOrderStore(handle.db, createOutbox({ livemode: false }));
    userId = (await createUserStore(handle.db).upsertByOpenid({ openid, unionid: null }, T0)).id;
  });
  afterAll(() => handle?.close());

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('orderStoreFixture is used before its beforeAll ran');
    return value;
  };

  return {
    get handle() {
      return ready(handle);
    },
    get orders() {
      return ready(orders);
    },
    get serial() {
      return serial;
    },
    async newOrder() {
      serial += 1;
      const store = ready(orders);
      return store.insert(
        {
          id: `${tag}-${database.name}-${serial}`,
          userId,
          openid,
          outTradeNo: `${tag.toUpperCase()}${database.name}${serial}`,
          sku: 'tea',
          quantity: 1,
          description: '乌龙茶',
          amount: 100,
          currency: 'CNY',
          expiresAt: T0 + 7_200_000,
        },
        T0,
      );
    },
  };
}
