/**
 * Everything a scenario needs before the clock starts: PENDING orders in the database and their
 * signed notification bodies (so the load generator never signs), logged-in users, login codes.
 */
import { randomBytes } from 'node:crypto';
import type { OrdersTable } from '../src/db/database.js';
import type { DbHandle } from '../src/db/open.js';
import { timeOrderedUuid } from '../src/db/time-ordered-id.js';
import { newOrderRow } from '../src/orders/order-row.js';
import { createOutTradeNoGenerator } from '../src/orders/out-trade-no.js';
import { createUserStore } from '../src/users/user-store.js';
import { formatWechatTime } from '../src/wechat/v2/fields.js';
import { buildPaymentNotification } from '../src/wechat/v2/notify.js';
import type { V2SignType } from '../src/wechat/v2/sign.js';
import { buildV3Notification } from '../src/wechat/v3/notify.js';
import { BENCH_CREDENTIALS, BENCH_V3 } from './processes.js';

export interface PreparedOrder {
  id: string;
  outTradeNo: string;
  transactionId: string;
  /** The signed notification WeChat would post for this order, as bytes on the wire. */
  body: Buffer;
  /** Its headers: `Content-Type`, and for v3 the `Wechatpay-*` signature headers. */
  headers: Record<string, string>;
}

const CHUNK = 500;
const AMOUNT_FEN = 2800;

/**
 * Inserts `count` PENDING orders of one user (rows built by the store's own newOrderRow, each
 * with its 'created' event) in chunks of multi-row INSERTs, and signs one notification each.
 */
export async function prepareOrders(
  handle: DbHandle,
  count: number,
  version: 'v2' | 'v3' = 'v2',
  /** v2 only: the tutorial's stack checks MD5, the service is configured for HMAC-SHA256. */
  signType: V2SignType = 'HMAC-SHA256',
): Promise<PreparedOrder[]> {
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
      // As if made one a millisecond before the run and paid in that order: the ids are the
      // order service's own (time-ordered), so the indexes see the keys they would see live.
      const createdAt = now - count + i;
      const order = {
        id: timeOrderedUuid(createdAt),
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
      rows.push(newOrderRow(order, createdAt));
      // 28 digits like WeChat's: a per-run part, then the order's index.
      const transactionId = `4200${runTag}${String(i).padStart(14, '0')}`;
      prepared.push({
        id: order.id,
        outTradeNo: order.outTradeNo,
        transactionId,
        body: Buffer.alloc(0),
        headers: {},
      });
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
  if (version === 'v3') {
    for (const p of prepared) {
      const { body, headers } = v3Notification(p, openid);
      p.body = Buffer.from(body);
      p.headers = { ...headers, 'content-type': 'application/json' };
    }
    return prepared;
  }
  const timeEnd = formatWechatTime(now);
  for (const p of prepared) {
    p.body = Buffer.from(notificationBody(p, openid, timeEnd, signType));
    p.headers = { 'content-type': 'text/xml' };
  }
  return prepared;
}

/**
 * The v3 notification of a payment, encrypted with the APIv3 key and signed now with the WeChat
 * Pay key: the service verifies RSA and decrypts AES-GCM for each one, as it would for WeChat's.
 * The signature's timestamp must stay within five minutes, so the scenario prepares fewer.
 */
function v3Notification(order: PreparedOrder, openid: string) {
  const c = BENCH_CREDENTIALS;
  return buildV3Notification({
    id: `EV-${order.transactionId}`,
    createTime: new Date().toISOString(),
    eventType: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    originalType: 'transaction',
    associatedData: 'transaction',
    resource: {
      appid: c.appid,
      mchid: c.mchId,
      out_trade_no: order.outTradeNo,
      transaction_id: order.transactionId,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'CMC',
      attach: '',
      success_time: new Date().toISOString(),
      payer: { openid },
      amount: { total: AMOUNT_FEN, payer_total: AMOUNT_FEN, currency: 'CNY', payer_currency: 'CNY' },
    },
    apiV3Key: BENCH_V3.apiV3Key,
    signer: { privateKey: BENCH_V3.payPrivateKey, serial: BENCH_V3.payPublicKeyId },
    timestamp: Math.floor(Date.now() / 1000),
  });
}

/** The fields and order WeChat uses in its payment notification, signed with the merchant key. */
function notificationBody(
  order: PreparedOrder,
  openid: string,
  timeEnd: string,
  signType: V2SignType,
): string {
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
    signType,
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
