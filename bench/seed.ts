/**
 * A database that has been in production for a year: `count` orders of 50,000 users, with the
 * rows and events the service itself would have left behind, inserted in bulk by the database
 * (one INSERT … SELECT per table, no round trip per row) so a million orders take seconds, not
 * the hours the API would.
 *
 * What a settled order leaves: the order with its prepay request and prepay_id; 85 % PAID (with a
 * transaction id, its payment evidence, and 'created', 'prepaid', 'notification_received' and
 * 'state_changed' events), 15 % CLOSED unpaid ('created', 'prepaid', 'state_changed'). No old
 * order is PENDING: the reconciler would have settled it, and here it would only make the
 * reconciler call a WeChat that is not there. One live session per user.
 *
 * User and order ids have the service's form (src/db/time-ordered-id.ts: a version 7 UUID whose
 * first 48 bits are the creation time), made from each row's created_at with a pseudo-random rest,
 * so the run's own ids sort after them, as they would a year later. They come in ascending order,
 * so each B-tree is built by appending, which keeps seeding fast. out_trade_no starts with "00"
 * (older than any made today) and transaction ids with 4199, which the bench's own never do.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DbKind } from './args.js';
import { BENCH_CREDENTIALS } from './processes.js';

export const SEED_USERS = 50_000;
const SEEDED_TABLES = ['users', 'sessions', 'orders', 'payment_evidence', 'order_events'];
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** The unifiedorder fields an order keeps (about the size the service stores). */
const PREPAY_REQUEST = JSON.stringify({
  appid: BENCH_CREDENTIALS.appid,
  mch_id: BENCH_CREDENTIALS.mchId,
  body: '拿铁 Latte',
  total_fee: '2800',
  fee_type: 'CNY',
  spbill_create_ip: '203.0.113.7',
  notify_url: 'https://pay.example.com/payment/wxnotify',
  trade_type: 'JSAPI',
  time_start: '20251201120000',
  time_expire: '20251201123000',
});

export interface SeedResult {
  orders: number;
  events: number;
  seconds: number;
}

/** Seeds an already migrated, empty database (`sqlite:/path` or a PostgreSQL URL with its search_path). */
export async function seedOrders(
  kind: DbKind,
  url: string,
  count: number,
  now = Date.now(),
): Promise<SeedResult> {
  const started = performance.now();
  const params = {
    n: count,
    users: Math.min(SEED_USERS, count),
    start: now - YEAR_MS,
    step: Math.floor(YEAR_MS / count),
  };
  const events =
    kind === 'sqlite' ? seedSqlite(url.replace(/^sqlite:/, ''), params) : await seedPostgres(url, params);
  return { orders: count, events, seconds: (performance.now() - started) / 1000 };
}

interface SeedParams {
  n: number;
  users: number;
  start: number;
  step: number;
}

function seedSqlite(file: string, p: SeedParams): number {
  const db = new Database(file);
  try {
    // Seeding is preparation, not what is measured: no fsync, and a page cache large enough
    // that index inserts in random key order do not go back to the file each time.
    // Nor a write-ahead log: in WAL mode every page would be written twice, once to the log and
    // once more at the checkpoint. A rollback journal keeps only pages that existed before, which
    // in a fresh database is next to nothing. The file goes back to WAL at the end.
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    db.pragma('temp_store = MEMORY');
    const seq = (n: number) =>
      `with recursive seq(i) as (select 0 union all select i + 1 from seq where i < ${n - 1})`;
    // A version 7 UUID: the time `t` (ms) in the first 48 bits, then a pseudo-random rest from `i`.
    const uuid = (t: string, i: string) =>
      `printf('%08x-%04x-7%03x-%04x-%012x', (${t}) / 65536, (${t}) % 65536,
        (${i}) * 2897 % 4096, 32768 + (${i}) * 1601 % 16384, (${i}) * 2654435761 % 281474976710655)`;
    const userId = (u: string) => uuid(String(p.start), u);
    const orderId = (i: string) => uuid(`${p.start} + (${i}) * ${p.step}`, i);
    // Secondary indexes are built once afterwards, by sorting, instead of row by row in random
    // key order; primary keys and unique constraints stay (they are part of the tables).
    const indexes = db
      .prepare(
        `select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${SEEDED_TABLES.map((t) => `'${t}'`).join(', ')})`,
      )
      .all() as { name: string; sql: string }[];
    db.transaction(() => {
      for (const index of indexes) db.exec(`drop index "${index.name}"`);
      db.exec(`insert into users (id, openid, unionid, created_at, updated_at)
        ${seq(p.users)} select ${userId('i')}, printf('oSeed%023d', i), null, ${p.start}, ${p.start} from seq`);
      db.exec(`insert into sessions (token_hash, user_id, created_at, expires_at, revoked_at)
        select lower(hex(randomblob(32))), id, ${p.start}, ${p.start + 2 * YEAR_MS}, null from users`);
      db.prepare(`insert into orders (id, user_id, openid, out_trade_no, sku, quantity, description, amount,
          currency, status, prepay_request, prepay_id, prepay_expires_at, transaction_id, paid_at, paid_source,
          created_at, updated_at, expires_at, refunded_fen, refund_count)
        ${seq(p.n)}, r as (select i, ${orderId('i')} as id, ${p.start} + i * ${p.step} as t,
          (i * 7919) % 100 < 85 as paid from seq)
        select id, ${userId(`i % ${p.users}`)}, printf('oSeed%023d', i % ${p.users}), printf('00%022d', i),
          'coffee-latte', 1, '拿铁 Latte', 2800, 'CNY', case when paid then 'PAID' else 'CLOSED' end,
          ?, printf('wx%030d', i), t + 7200000,
          case when paid then printf('4199%024d', i) end, case when paid then t + 20000 end,
          case when paid then 'notify' end, t, t + 20000, t + 1800000, 0, 0
        from r`).run(PREPAY_REQUEST);
      db.exec(`insert into payment_evidence (transaction_id, order_id, out_trade_no, source, total_fee, cash_fee,
          currency, appid, mch_id, paid_at, time_end, order_status, raw, received_at)
        select transaction_id, id, out_trade_no, 'notification', amount, amount, currency,
          '${BENCH_CREDENTIALS.appid}', '${BENCH_CREDENTIALS.mchId}', paid_at, null, 'PENDING',
          json_object('transaction_id', transaction_id, 'out_trade_no', out_trade_no, 'total_fee', '2800',
            'result_code', 'SUCCESS', 'trade_type', 'JSAPI', 'bank_type', 'CMC'), paid_at
        from orders where status = 'PAID'`);
      // One statement per kind of event, in the order they happen, so each order's events have
      // ascending ids as the service would have written them.
      const event = (type: string, data: string, at: string, where = '') =>
        db.exec(`insert into order_events (order_id, type, data, created_at)
          select id, '${type}', ${data}, ${at} from orders ${where}`);
      event(
        'created',
        `json_object('outTradeNo', out_trade_no, 'sku', sku, 'quantity', 1, 'amount', amount)`,
        'created_at',
      );
      event('prepaid', `json_object('prepayId', prepay_id)`, 'created_at + 300');
      event(
        'notification_received',
        `json_object('verified', json('true'), 'applied', json('true'), 'transactionId', transaction_id, 'cashFee', amount)`,
        'paid_at',
        `where status = 'PAID'`,
      );
      event(
        'state_changed',
        `case when status = 'PAID'
          then json_object('from', 'PENDING', 'to', 'PAID', 'transactionId', transaction_id, 'paidAt', paid_at, 'paidSource', 'notify')
          else json_object('from', 'PENDING', 'to', 'CLOSED', 'reason', 'closed') end`,
        'updated_at',
      );
      for (const index of indexes) db.exec(index.sql);
    })();
    db.exec('analyze');
    db.pragma('journal_mode = WAL');
    return (db.prepare('select count(*) as n from order_events').get() as { n: number }).n;
  } finally {
    db.close();
    // synchronous=OFF left the whole file in the kernel's dirty pages: flush it now, or the
    // service's first fsync (its first checkpoint) would pay for writing back the seeding, a
    // stall of seconds measured as the service's own.
    const fd = openSync(file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

async function seedPostgres(url: string, p: SeedParams): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('set synchronous_commit = off');
    await client.query("set maintenance_work_mem = '256MB'");
    await client.query('begin');
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = any($1)
         and indexname not in (select conname from pg_constraint)`,
      [SEEDED_TABLES],
    );
    for (const index of indexes) await client.query(`drop index "${index.indexname}"`);
    const hex = (x: string, width: number) => `lpad(to_hex(${x}), ${width}, '0')`;
    // As on SQLite: a version 7 UUID of the time `t` (ms) and a pseudo-random rest from `i`.
    const uuid = (t: string, i: string) =>
      `${hex(`(${t})::bigint / 65536`, 8)} || '-' || ${hex(`(${t})::bigint % 65536`, 4)} || '-7' ||
        ${hex(`(${i})::bigint * 2897 % 4096`, 3)} || '-' || ${hex(`32768 + (${i})::bigint * 1601 % 16384`, 4)} || '-' ||
        ${hex(`(${i})::bigint * 2654435761 % 281474976710655`, 12)}`;
    const userId = (u: string) => uuid(String(p.start), u);
    await client.query(`insert into users (id, openid, unionid, created_at, updated_at)
      select ${userId('i')}, 'oSeed' || lpad(i::text, 23, '0'), null, ${p.start}, ${p.start}
      from generate_series(0, ${p.users - 1}) i`);
    await client.query(`insert into sessions (token_hash, user_id, created_at, expires_at, revoked_at)
      select md5(random()::text) || md5(id), id, ${p.start}, ${p.start + 2 * YEAR_MS}, null from users`);
    await client.query(
      `insert into orders (id, user_id, openid, out_trade_no, sku, quantity, description, amount,
        currency, status, prepay_request, prepay_id, prepay_expires_at, transaction_id, paid_at, paid_source,
        created_at, updated_at, expires_at, refunded_fen, refund_count)
      select id, ${userId(`i % ${p.users}`)}, 'oSeed' || lpad((i % ${p.users})::text, 23, '0'),
        '00' || lpad(i::text, 22, '0'), 'coffee-latte', 1, '拿铁 Latte', 2800, 'CNY',
        case when paid then 'PAID' else 'CLOSED' end, $1, 'wx' || lpad(i::text, 30, '0'), t + 7200000,
        case when paid then '4199' || lpad(i::text, 24, '0') end, case when paid then t + 20000 end,
        case when paid then 'notify' end, t, t + 20000, t + 1800000, 0, 0
      from (select i, ${uuid(`${p.start}::bigint + i * ${p.step}::bigint`, 'i')} as id,
              ${p.start}::bigint + i * ${p.step}::bigint as t, (i * 7919) % 100 < 85 as paid
            from generate_series(0, ${p.n - 1}::bigint) i) r`,
      [PREPAY_REQUEST],
    );
    await client.query(`insert into payment_evidence (transaction_id, order_id, out_trade_no, source, total_fee,
        cash_fee, currency, appid, mch_id, paid_at, time_end, order_status, raw, received_at)
      select transaction_id, id, out_trade_no, 'notification', amount, amount, currency,
        '${BENCH_CREDENTIALS.appid}', '${BENCH_CREDENTIALS.mchId}', paid_at, null, 'PENDING',
        json_build_object('transaction_id', transaction_id, 'out_trade_no', out_trade_no, 'total_fee', '2800',
          'result_code', 'SUCCESS', 'trade_type', 'JSAPI', 'bank_type', 'CMC')::text, paid_at
      from orders where status = 'PAID'`);
    const event = (type: string, data: string, at: string, where = '') =>
      client.query(`insert into order_events (order_id, type, data, created_at)
        select id, '${type}', (${data})::text, ${at} from orders ${where}`);
    await event(
      'created',
      `json_build_object('outTradeNo', out_trade_no, 'sku', sku, 'quantity', 1, 'amount', amount)`,
      'created_at',
    );
    await event('prepaid', `json_build_object('prepayId', prepay_id)`, 'created_at + 300');
    await event(
      'notification_received',
      `json_build_object('verified', true, 'applied', true, 'transactionId', transaction_id, 'cashFee', amount)`,
      'paid_at',
      `where status = 'PAID'`,
    );
    await event(
      'state_changed',
      `case when status = 'PAID'
        then json_build_object('from', 'PENDING', 'to', 'PAID', 'transactionId', transaction_id, 'paidAt', paid_at, 'paidSource', 'notify')
        else json_build_object('from', 'PENDING', 'to', 'CLOSED', 'reason', 'closed') end`,
      'updated_at',
    );
    for (const index of indexes) await client.query(index.indexdef);
    await client.query('commit');
    await client.query('analyze');
    const { rows } = await client.query<{ n: string }>('select count(*) as n from order_events');
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
