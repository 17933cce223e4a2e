/**
 * Load for the SQLite concurrency tests, usable in-process (runWriters) and as a child process,
 * so a test can have the database written by several connections at once:
 *
 *   node <bundle of this file> <url> write <userId> <prefix> <writers> <orders>   → {"paid":n,"errors":[…]}
 *   node <bundle of this file> <url> hold <ms>     (takes the write lock, says "locked", commits after ms)
 *   node <bundle of this file> <url> migrate       → ["0001_initial"] or []
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openDatabase } from '../../src/db/open.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';

export interface WriteReport {
  paid: number;
  errors: string[];
}

/** `writers` concurrent loops, each saving, paying and annotating `perWriter` orders through the stores. */
export async function runWriters(db: Db, userId: string, prefix: string, writers: number, perWriter: number) {
  const orders = createOrderStore(db, createOutbox({ livemode: false }));
  const report: WriteReport = { paid: 0, errors: [] };
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const id = `${prefix}-${w}-${i}`;
        try {
          const row = {
            id,
            userId,
            openid: 'o-load',
            outTradeNo: `${prefix}${w}x${i}`,
            sku: 'tea',
            quantity: 1,
          };
          await orders.insert({ ...row, description: 'tea', amount: 100, currency: 'CNY', expiresAt: 1 }, 1);
          const { changed } = await orders.markPaid(
            id,
            { transactionId: `tx-${id}`, paidAt: 2, source: 'notify' },
            2,
          );
          await orders.addEvent(id, 'notification_received', { verified: true }, 3);
          if (changed) report.paid++;
        } catch (err) {
          report.errors.push(String((err as { code?: unknown }).code ?? (err as Error).message));
        }
      }
    }),
  );
  return report;
}

async function main([url, mode, ...rest]: string[]): Promise<void> {
  const handle = await openDatabase(url as string);
  try {
    if (mode === 'hold') {
      await handle.db.transaction().execute(async (trx) => {
        await sql`update orders set updated_at = updated_at where 0`.execute(trx);
        process.stdout.write('locked\n');
        await new Promise((resolve) => setTimeout(resolve, Number(rest[0])));
      });
    } else if (mode === 'migrate') {
      process.stdout.write(`${JSON.stringify(await migrateToLatest(handle))}\n`);
    } else if (mode === 'write') {
      const [userId, prefix, writers, perWriter] = rest as [string, string, string, string];
      const report = await runWriters(handle.db, userId, prefix, Number(writers), Number(perWriter));
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await handle.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
