/**
 * Everything a scenario needs before the clock starts: PENDING orders in the database and their
 * signed notification bodies (so the load generator never signs), logged-in users, login codes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { OrdersTable } from '../src/db/database.js';
import type { DbHandle } from '../src/db/open.js';
import { newOrderRow } from '../src/orders/order-row.js';
import { createOutTradeNoGenerator } from '../src/orders/out-trade-no.js';
import { createUserStore } from '../src/users/user-store.js';
import { formatWechatTime } from '../src/wechat/v2/fields.js';
import { buildPaymentNotification } from '../src/wechat/v2/notify.js';
import { BENCH_CREDENTIALS } from './processes.js';

export interface PreparedOrder {
  id: string;
  outTradeNo: string;
  transactionId: string;
  /** The signed v2 notification WeChat would post for this order, as bytes on the wire. */
  body: Buffer;
}

const CHUNK = 500;
const AMOUNT_FEN = 2800;

/**
 * Inserts `count` PENDING orders of one user (rows built by the store's own newOrderRow, each
 * with its 'created' event) in chunks of multi-row INSERTs, and signs one notification each.
 */
export async function prepareOrders(handle: DbHandle, count: number): Promise<PreparedOrder[]> {
  const { db } = handle;
  const now = Date.now();
  const openid = `oBench${randomBytes(11).toString('base64url')}`;
  const user = await createUserStore(db).upsertByOpenid({ openid, unionid: null }, now);
  const nextOutTradeNo = createOutTradeNoGenerator();
  const runTag = String(now % 1e10).padStart(10, '0');
  const prepared: PreparedOrder[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const rows: OrdersTable[] = [];
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      const order = {
        id: randomUUID(),
        userId: user.id,
        openid,
        outTradeNo: nextOutTradeNo(),
        sku: 'coffee-latte',
        quantity: 1,
        description: '拿铁 Latte',
        amount: AMOUNT_FEN,
        currency: 'CNY' as const,
        expiresAt: now + 30 * 60_000,
      };
      rows.push(newOrderRow(order, now));
      // 28 digits like WeChat's: a per-run part, then the order's index.
      const transactionId = `4200${runTag}${String(i).padStart(14, '0')}`;
      prepared.push({ id: order.id, outTradeNo: order.outTradeNo, transactionId, body: Buffer.alloc(0) });
    }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('orders').values(rows).execute();
      await trx
        .insertInto('order_events')
        .values(
          rows.map((r) => ({
            order_id: r.id,
            type: 'created',
            data: JSON.stringify({ outTradeNo: r.out_trade_no, sku: r.sku, quantity: 1, amount: r.amount }),
            created_at: now,
          })),
        )
        .execute();
    });
  }
  const timeEnd = formatWechatTime(now);
  for (const p of prepared) p.body = Buffer.from(notificationBody(p, openid, timeEnd));
  return prepared;
}

/** The fields and order WeChat uses (protocol doc §2.13), signed with HMAC-SHA256 like the orders. */
function notificationBody(order: PreparedOrder, openid: string, timeEnd: string): string {
  const c = BENCH_CREDENTIALS;
  return buildPaymentNotification(
    {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: c.appid,
      mch_id: c.mchId,
      nonce_str: randomBytes(16).toString('hex'),
      result_code: 'SUCCESS',
      openid,
      is_subscribe: 'N',
      trade_type: 'JSAPI',
      bank_type: 'CMC',
      total_fee: String(AMOUNT_FEN),
      fee_type: 'CNY',
      cash_fee: String(AMOUNT_FEN),
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      time_end: timeEnd,
    },
    c.key,
    'HMAC-SHA256',
  );
}

/** One-time login codes from the simulator's wx.login, `parallel` requests at a time. */
export async function loginCodes(simulatorUrl: string, count: number, parallel = 16): Promise<string[]> {
  const codes: string[] = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      const res = await fetch(`${simulatorUrl}/sim/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appid: BENCH_CREDENTIALS.appid }),
      });
      if (res.status !== 200) throw new Error(`/sim/login answered ${res.status}: ${await res.text()}`);
      codes.push(((await res.json()) as { code: string }).code);
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return codes;
}

/** Logs `count` users in through the service (code2Session at the simulator); returns their tokens. */
export async function loginUsers(serviceUrl: string, simulatorUrl: string, count: number): Promise<string[]> {
  const codes = await loginCodes(simulatorUrl, count, 8);
  return Promise.all(
    codes.map(async (code) => {
      const res = await fetch(`${serviceUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      if (res.status !== 200) throw new Error(`/api/login answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    }),
  );
}
