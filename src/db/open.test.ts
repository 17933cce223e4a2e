import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { migrateToLatest } from './migrations.js';
import { type DbHandle, openDatabase, redactUrl } from './open.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-open-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(url: string): Promise<DbHandle> {
  const handle = await openDatabase(url);
  cleanups.push(() => handle.close());
  return handle;
}

describe('openDatabase URLs', () => {
  it('refuses an unknown scheme with examples of what works, without echoing a password', async () => {
    await expect(openDatabase('mysql://root:hunter2@db/x')).rejects.toThrow(
      'DATABASE_URL must start with sqlite: or postgres:// (got "mysql://root:***@db/x"); for example',
    );
    await expect(openDatabase('sqlite:')).rejects.toThrow(/needs a file path/);
  });

  it('masks the password in URLs meant for messages', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/pay')).toBe('postgres://app:***@db:5432/pay');
    expect(redactUrl('postgres://app@db/pay')).toBe('postgres://app@db/pay');
  });

  it('creates the folder of a sqlite: path and opens it in WAL mode with synchronous=FULL', async () => {
    const file = join(tempDir(), 'nested', 'deeper', 'pay.db');
    const handle = await open(`sqlite:${file}`);
    expect(handle.dialect).toBe('sqlite');
    const pragma = async (name: string) =>
      Object.values(
        (await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(handle.db)).rows[0] ?? {},
      )[0];
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('synchronous')).toBe(2); // FULL
    expect(await pragma('foreign_keys')).toBe(1);
    expect(await pragma('busy_timeout')).toBe(5000);
    expect(existsSync(file)).toBe(true);
  });

  it("sets SQLite's page cache to the size asked, in MB, and leaves better-sqlite3's default otherwise", async () => {
    const dir = tempDir();
    const sized = await openDatabase(`sqlite:${join(dir, 'sized.db')}`, { sqliteCacheMb: 64 });
    cleanups.push(() => sized.close());
    const plain = await open(`sqlite:${join(dir, 'plain.db')}`);
    const cacheSize = async (handle: DbHandle) =>
      (await sql<{ cache_size: number }>`pragma cache_size`.execute(handle.db)).rows[0]?.cache_size;
    expect(await cacheSize(sized)).toBe(-65536);
    expect(await cacheSize(plain)).toBe(-16000); // better-sqlite3's build: 16,000 KiB
  });

  it('opens sqlite::memory: with foreign keys enforced', async () => {
    const handle = await open('sqlite::memory:');
    await migrateToLatest(handle);
    const order = {
      id: 'o',
      user_id: 'no-such-user',
      openid: 'x',
      out_trade_no: 'OTN000001',
      sku: 's',
      quantity: 1,
    };
    await expect(
      handle.db
        .insertInto('orders')
        .values({
          ...order,
          description: 'd',
          amount: 1,
          currency: 'CNY',
          status: 'PENDING',
          prepay_request: null,
          prepay_id: null,
          prepay_expires_at: null,
          transaction_id: null,
          paid_at: null,
          paid_source: null,
          created_at: 0,
          updated_at: 0,
          expires_at: 0,
          last_queried_at: null,
          lease_until: null,
          lease_owner: null,
          refunded_fen: 0,
          refund_count: 0,
        })
        .execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
  });

  it('starts SQLite transactions with BEGIN IMMEDIATE: the write lock is taken before the first write', async () => {
    const file = join(tempDir(), 'immediate.db');
    const handle = await open(`sqlite:${file}`);
    await migrateToLatest(handle);
    // Another connection, as another process would have, that does not wait for locks.
    const other = new Database(file, { timeout: 0 });
    cleanups.push(() => {
      other.close();
    });
    const write = () =>
      other.prepare("insert into anomalies (kind, ref, data, created_at) values ('k', ?, '{}', 0)");
    await handle.db.transaction().execute(async (trx) => {
      // Only a read so far: under a deferred BEGIN the other connection could still write now.
      await trx.selectFrom('anomalies').selectAll().execute();
      expect(() => write().run('during')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    });
    expect(write().run('after').changes).toBe(1);
  });

  it('shares one connection between handles on the same file, open until the last one closes', async () => {
    const file = join(tempDir(), 'shared.db');
    const first = await openDatabase(`sqlite:${file}`);
    const second = await open(`sqlite:${file}`);
    expect(second.db).toBe(first.db);
    await first.close();
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(second.db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});

for (const database of testDatabases().filter((d) => d.name === 'postgres')) {
  describe('openDatabase on PostgreSQL', () => {
    it('reads BIGINT columns and counts back as numbers', async () => {
      const handle = await database.open();
      cleanups.push(() => handle.close());
      const { rows } = await sql<{ big: unknown; n: unknown }>`
        select 1704067200000::bigint as big, count(*) as n from (values (1), (2)) v(x)`.execute(handle.db);
      expect(rows).toEqual([{ big: 1704067200000, n: 2 }]);
    });
  });
}
