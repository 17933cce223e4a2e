/**
 * The running deliverer refills freed slots in groups (a claim is a commit), but a new event
 * never waits for slow POSTs to finish: with most slots busy, it is claimed within the short
 * claim delay, not after the slow receiver answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createEndpointStore } from '../../src/webhooks/endpoint-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { testDatabases } from '../db/dialects.js';
import { orderStoreFixture } from '../orders/order-store-fixture.js';
import { startReceiver, type TestReceiver } from './receiver.js';
import { testDeliverer } from './test-deliverer.js';

const SLOW_MS = 1500;

for (const database of testDatabases()) {
  describe(`webhook deliverer slots on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'slots');
    const clock = systemClock;
    let receiver: TestReceiver;
    beforeAll(async () => {
      receiver = await startReceiver();
    });
    afterAll(() => receiver.close());

    it('delivers a new event at once while 7 of 8 slots wait on a slow receiver', async () => {
      const db = s.handle.db;
      const endpoints = createEndpointStore(db);
      for (const e of await endpoints.list()) await endpoints.disable(e.id, 'test', clock.now());
      const { secret } = await endpoints.create({ url: receiver.url }, clock.now());
      receiver.secret = secret;
      // The first 7 requests (whatever their event) are slow, the rest answered at once.
      receiver.answer = () =>
        receiver.received.length <= 7 ? { status: 200, delayMs: SLOW_MS } : { status: 200 };
      const orders = createOrderStore(db, createOutbox({ livemode: false }));
      const pay = async (i: number) => {
        const order = await s.newOrder();
        await orders.markPaid(
          order.id,
          { transactionId: `4200SLOT${database.name}${i}${order.id}`, paidAt: clock.now(), source: 'query' },
          clock.now(),
        );
      };
      // 8 slots: a claim waits for 2 free ones, or for the claim delay.
      const deliverer = testDeliverer(db, clock, { maxConcurrent: 8, intervalMs: 60_000 });
      try {
        for (let i = 0; i < 7; i++) await pay(i);
        deliverer.start();
        while (receiver.received.length < 7) await new Promise((r) => setTimeout(r, 5));
        await pay(7);
        deliverer.wake(); // what the outbox does after the commit
        while (receiver.applied.length < 1) await new Promise((r) => setTimeout(r, 5));
        // The first event answered is the 8th: it went out while the slow 7 were still waiting.
        expect(receiver.received).toHaveLength(8);
        expect(receiver.applied[0]).toBe(receiver.received[7]!.eventId);
      } finally {
        await deliverer.stop();
      }
      expect(receiver.applied).toHaveLength(8);
    });
  });
}
