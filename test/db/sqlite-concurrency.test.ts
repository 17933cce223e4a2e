import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES, migrateToLatest } from '../../src/db/migrations.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { childScript } from './child-script.js';
import { type TestDbHandle, testDatabases } from './dialects.js';
import { runWriters, type WriteReport } from './sqlite-writer.js';

const WRITER = fileURLToPath(new URL('./sqlite-writer.ts', import.meta.url));
const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;
const run = promisify(execFile);

/** The same helper in a child process: a second connection to the file, as a second instance has. */
async function inChild(...args: string[]): Promise<string> {
  return (await run(process.execPath, [await childScript(WRITER), ...args], { timeout: 60_000 })).stdout;
}

describe('SQLite shared by several processes', () => {
  const handles: TestDbHandle[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await Promise.all(handles.splice(0).map((h) => h.close()));
  });

  it('serves 50 concurrent writers on two connections with no SQLITE_BUSY and no lost write', async () => {
    const handle = await sqlite.openMigrated();
    handles.push(handle);
    const userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-load', unionid: null }, 0))
      .id;
    const [writers, perWriter] = [25, 4];
    await childScript(WRITER); // build first, so both sides start writing together
    const [child, local] = await Promise.all([
      inChild(handle.url, 'write', userId, 'child', String(writers), String(perWriter)).then(
        (out) => JSON.parse(out) as WriteReport,
      ),
      runWriters(handle.db, userId, 'local', writers, perWriter),
    ]);
    expect([...child.errors, ...local.errors]).toEqual([]);
    const expected = 2 * writers * perWriter;
    expect(child.paid + local.paid).toBe(expected);
    expect((await createOrderStore(handle.db, createOutbox({ livemode: false })).countByStatus()).PAID).toBe(
      expected,
    );
    const events = await handle.db
      .selectFrom('order_events')
      .select((eb) => ['type', eb.fn.countAll<number>().as('n')])
      .groupBy('type')
      .orderBy('type')
      .execute();
    expect(events).toEqual([
      { type: 'created', n: expected },
      { type: 'notification_received', n: expected },
      { type: 'state_changed', n: expected },
    ]);
  });

  it('makes a writer wait for another process holding the write lock, then succeed', async () => {
    const handle = await sqlite.openMigrated();
    handles.push(handle);
    const orders = createOrderStore(handle.db, createOutbox({ livemode: false }));
    const userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-wait', unionid: null }, 0))
      .id;
    const holder = spawn(process.execPath, [await childScript(WRITER), handle.url, 'hold', '1000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    await once(holder.stdout, 'data'); // 'locked'
    const started = performance.now();
    const row = { id: 'w1', userId, openid: 'o-wait', outTradeNo: 'WAIT000001', sku: 's', quantity: 1 };
    const order = await orders.insert(
      { ...row, description: 'd', amount: 1, currency: 'CNY', expiresAt: 1 },
      1,
    );
    const waited = performance.now() - started;
    expect(order.status).toBe('PENDING');
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(5000);
  });

  it('applies each migration once when three processes start on one new file together', async () => {
    const handle = await sqlite.open();
    handles.push(handle);
    await childScript(WRITER);
    const results = await Promise.all([
      inChild(handle.url, 'migrate').then((out) => JSON.parse(out) as string[]),
      inChild(handle.url, 'migrate').then((out) => JSON.parse(out) as string[]),
      migrateToLatest(handle),
    ]);
    expect(results.flat().sort()).toEqual([...MIGRATION_NAMES].sort());
  });
});
