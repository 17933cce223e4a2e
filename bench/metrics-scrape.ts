/**
 * What the order counts of one /metrics scrape cost on a large SQLite database: seeds N orders
 * (bench/seed.ts), then times the count by state as /metrics ran it on every scrape, and as it
 * runs now (cachedFor: scrapes within 5 s share one count).
 *
 *   node --import tsx bench/metrics-scrape.ts [orders=300000] [scrapes=20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrateToLatest } from '../src/db/migrations.js';
import { openDatabase } from '../src/db/open.js';
import { cachedFor } from '../src/observability/cached-for.js';
import { createOrderStore } from '../src/orders/order-store.js';
import { createOutbox } from '../src/webhooks/outbox.js';
import { seedOrders } from './seed.js';

const orders = Number(process.argv[2] ?? 300_000);
const scrapes = Number(process.argv[3] ?? 20);
const dir = mkdtempSync(join(import.meta.dirname, 'out', 'scrape-'));
const url = `sqlite:${join(dir, 'scrape.db')}`;
try {
  const setup = await openDatabase(url);
  await migrateToLatest(setup);
  await setup.close();
  await seedOrders('sqlite', url, orders);
  const handle = await openDatabase(url, { sqliteCacheMb: 64 });
  const store = createOrderStore(handle.db, createOutbox({ livemode: false }));
  const timeScrapes = async (count: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < scrapes; i += 1) {
      const started = performance.now();
      await count();
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    return `median ${ms[Math.floor(ms.length / 2)]!.toFixed(3)} ms, max ${ms.at(-1)!.toFixed(3)} ms`;
  };
  await store.countByStatus(); // warm the page cache, as a running service's would be
  console.log(`${orders} orders, ${scrapes} scrapes in a row`);
  console.log(`  counted on every scrape: ${await timeScrapes(() => store.countByStatus())}`);
  console.log(
    `  cached for 5 s:          ${await timeScrapes(cachedFor(5000, () => store.countByStatus()))}`,
  );
  await handle.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
