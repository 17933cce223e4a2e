/**
 * GET /v1/events: the shop's backend catches up on the event log with its API key, paging
 * with `after` exactly as GET /admin/events does. Both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from '../service/harness.js';
import { payCoffee } from './pay-order.js';

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

interface Page {
  events: { sequence: number; id: string; type: string; data: { object: { id: string } } }[];
  hasMore: boolean;
  next: number;
}

for (const database of testDatabases()) {
  describe(`GET /v1/events on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let key: string;

    beforeAll(async () => {
      db = await database.openMigrated();
      h = await startHarness(db);
      h.service.webhooks.start();
      const created = await h.api('POST', '/admin/api-keys', undefined, { name: 'shop-backend' }, admin);
      key = ((await created.json()) as { key: string }).key;
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
    });

    const page = async (query: string) => {
      const res = await h.api('GET', `/v1/events${query}`, key);
      return { status: res.status, json: (await res.json()) as Page & { code?: string } };
    };

    /** The log lists an event once the deliverer has given it its place; poll until it has. */
    async function logLength(n: number): Promise<Page> {
      for (let i = 0; i < 500; i += 1) {
        const { json } = await page('?after=0&limit=500');
        if (json.events.length >= n) return json;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`the event log never reached ${n} events`);
    }

    it('shows payment.succeeded for a paid order, and pages with after=', async () => {
      const paid = [(await payCoffee(h)).id, (await payCoffee(h)).id, (await payCoffee(h)).id];
      const all = await logLength(3);
      expect(all.hasMore).toBe(false);
      expect(all.events.map((e) => [e.type, e.data.object.id])).toEqual(
        paid.map((id) => ['payment.succeeded', id]),
      );
      expect(all.events.map((e) => e.sequence)).toEqual([1, 2, 3]);

      const first = await page('?after=0&limit=2');
      expect(first.status).toBe(200);
      expect(first.json.events.map((e) => e.id)).toEqual(all.events.slice(0, 2).map((e) => e.id));
      expect(first.json).toMatchObject({ hasMore: true, next: 2 });
      const rest = await page(`?after=${first.json.next}`);
      expect(rest.json.events.map((e) => e.id)).toEqual([all.events[2]!.id]);
      expect(rest.json).toMatchObject({ hasMore: false, next: 3 });
      expect((await page('?after=3')).json).toEqual({ events: [], hasMore: false, next: 3 });
      // The admin route answers the same page.
      const adminPage = await h.api('GET', '/admin/events?after=0&limit=2', undefined, undefined, admin);
      expect(await adminPage.json()).toEqual(first.json);
    });

    it('refuses bad paging with 400 and changes nothing', async () => {
      for (const query of ['?limit=0', '?limit=501', '?after=-1', '?after=x']) {
        const res = await page(query);
        expect(res.status, query).toBe(400);
        expect(res.json.code, query).toBe('VALIDATION_ERROR');
      }
    });

    it('answers 401 without a key, with an unknown key, and with the admin token', async () => {
      const none = await h.api('GET', '/v1/events');
      expect(none.status).toBe(401);
      const bad = await h.api('GET', '/v1/events', 'wpk_not_a_real_key');
      expect(bad.status).toBe(401);
      const asAdmin = await h.api('GET', '/v1/events', undefined, undefined, admin);
      expect(asAdmin.status).toBe(401);
    });
  });
}
