/**
 * Attempts that end together are recorded in one transaction with a fixed number of statements
 * for the successes (finish-attempt.ts), and each attempt still ends exactly as it would alone:
 * succeeded, retried, or lost to another instance that took its lease.
 */
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createOrderStore } from '../../src/orders/order-store.js';
import type { AttemptOutcome, ClaimedDelivery } from '../../src/webhooks/delivery-store.js';
import { createDeliveryStore } from '../../src/webhooks/delivery-store.js';
import { createEndpointStore } from '../../src/webhooks/endpoint-store.js';
import { fanOut } from '../../src/webhooks/fan-out.js';
import { finishAllIn } from '../../src/webhooks/finish-attempt.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { testDatabases } from '../db/dialects.js';
import { orderStoreFixture, T0 } from '../orders/order-store-fixture.js';

const OWNER = 'instance-a';
const outcome = (ok: boolean, status: number): AttemptOutcome => ({
  ok,
  startedAt: T0 + 1000,
  latencyMs: 3.4,
  statusCode: status,
  responseBody: ok ? 'ok' : 'down',
  error: ok ? null : `HTTP ${status}`,
});

/** Counts the statements a transaction runs. */
function counting(): { plugin: KyselyPlugin; count: () => number } {
  let n = 0;
  return {
    plugin: {
      transformQuery: (args) => {
        n += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    },
    count: () => n,
  };
}

for (const database of testDatabases()) {
  describe(`recording finished webhook attempts together on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'fin');

    /** `n` claimed deliveries of paid orders to one endpoint. */
    async function claimed(n: number): Promise<ClaimedDelivery[]> {
      const db = s.handle.db;
      const endpoints = createEndpointStore(db);
      for (const e of await endpoints.list()) await endpoints.disable(e.id, 'test', T0);
      await endpoints.create({ url: 'http://127.0.0.1:9/hook' }, T0);
      const orders = createOrderStore(db, createOutbox({ livemode: false }));
      for (let i = 0; i < n; i++) {
        const order = await s.newOrder();
        await orders.markPaid(
          order.id,
          { transactionId: `4200FIN${database.name}${order.id}`, paidAt: T0, source: 'query' },
          T0,
        );
      }
      await fanOut(db, T0);
      return createDeliveryStore(db).claim({ now: T0, limit: n, leaseMs: 60_000, owner: OWNER });
    }

    it('records successes with a fixed number of statements, and a failure and a lost lease as they would end alone', async () => {
      const db = s.handle.db;
      const deliveries = await claimed(8);
      expect(deliveries).toHaveLength(8);
      // Another instance took the last one over (our lease expired while the POST ran).
      const lost = deliveries[7]!;
      await db
        .updateTable('webhook_deliveries')
        .set({ lease_owner: 'instance-b' })
        .where('id', '=', lost.id)
        .execute();
      const c = { now: T0 + 2000, owner: OWNER, retryAt: T0 + 12_000 };
      const items = deliveries.map((delivery, i) => ({
        delivery,
        outcome: i === 6 ? outcome(false, 500) : outcome(true, 200),
        c,
      }));

      const { plugin, count } = counting();
      const results = await db.transaction().execute((trx) => finishAllIn(trx.withPlugin(plugin), items));
      expect(results.map((r) => r.status)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
        'succeeded',
        'succeeded',
        'succeeded',
        'pending',
        'lease_lost',
      ]);
      // One INSERT of the 8 attempts and one UPDATE of the 7 successes (1 of them no longer ours),
      // then the failure's own read and update. Per attempt, it was three statements each.
      expect(count()).toBe(4);

      const rows = await db
        .selectFrom('webhook_deliveries')
        .select([
          'id',
          'status',
          'attempts',
          'lease_owner',
          'last_attempt_at',
          'last_status',
          'succeeded_at',
          'next_attempt_at',
        ])
        .where(
          'id',
          'in',
          deliveries.map((d) => d.id),
        )
        .orderBy('id')
        .execute();
      for (const row of rows.slice(0, 6)) {
        expect(row).toMatchObject({
          status: 'succeeded',
          attempts: 1,
          lease_owner: null,
          last_attempt_at: T0 + 1000,
          last_status: 200,
          succeeded_at: T0 + 2000,
        });
      }
      expect(rows[6]).toMatchObject({
        status: 'pending',
        attempts: 1,
        lease_owner: null,
        last_status: 500,
        next_attempt_at: T0 + 12_000,
      });
      expect(rows[7]).toMatchObject({
        status: 'pending',
        attempts: 0,
        lease_owner: 'instance-b',
        succeeded_at: null,
      });
      const attempts = await db
        .selectFrom('webhook_attempts')
        .select(['delivery_id', 'ok', 'status_code'])
        .where(
          'delivery_id',
          'in',
          deliveries.map((d) => d.id),
        )
        .execute();
      expect(attempts).toHaveLength(8); // every attempt is kept, even the one whose lease was lost
    });
  });
}
