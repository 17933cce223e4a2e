/**
 * What the refund suites share: a harness on one API version and one database (the simulator's
 * refunds succeed 60 s after they are asked for), a PAID order, the admin refund route, and the
 * rows and notification attempts a test reads back. Call it at the top of a `describe`: it
 * registers its own beforeAll and afterAll (which checks the money invariants).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import type { TestDatabase, TestDbHandle } from '../db/dialects.js';
import { type ApiVersion, CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

export interface RefundBody {
  refund: {
    outRefundNo: string;
    amount: number;
    status: string;
    refundId: string | null;
    lastError: string | null;
  };
  order: {
    id: string;
    status: string;
    refundedAmount: number;
    refunds: { outRefundNo: string; status: string }[];
  };
  code?: string;
}

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

/** v2 refunds present the merchant certificate over mutual TLS; v3 signs with the key it already has. */
async function refundEnv(version: ApiVersion): Promise<Record<string, string>> {
  if (version === 'v3') return {};
  const certs = await generateTestCertificates({ mchId: CREDENTIALS.mchId });
  return { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey };
}

export function useRefundHarness(version: ApiVersion, database: TestDatabase) {
  let keyN = 0;
  const f = {
    h: undefined as unknown as Harness,
    db: undefined as unknown as TestDbHandle,

    /** A PENDING order of `sku` (latte: 2800 fen) through POST /api/orders, with what the phone got. */
    async placeOrder(sku = 'latte') {
      const { token } = await f.h.login();
      const res = await f.h.api('POST', '/api/orders', token, { sku, quantity: 1 });
      const created = (await res.json()) as {
        order: { id: string; outTradeNo: string; amount: number };
        payment: { package: string };
      };
      return { ...created, token };
    },

    /** The user pays at the simulator (its notification is queued, and sent once the clock settles). */
    async pay(payment: { package: string }) {
      await f.h.sim('/sim/pay', {
        prepay_id: payment.package.slice('prepay_id='.length),
        result: 'SUCCESS',
        appId: CREDENTIALS.appid,
        payment,
      });
      await f.h.clock.settle();
    },

    /** A PAID order of `sku`, paid through the simulator's notification. */
    async paidOrder(sku = 'latte') {
      const { order, payment, token } = await f.placeOrder(sku);
      await f.pay(payment);
      expect((await f.orderRow(order.id)).status).toBe('PAID');
      return { ...order, token };
    },

    /** POST /admin/orders/:id/refunds with a fresh Idempotency-Key (or the one given). */
    async refund(orderId: string, body: object, key = `k-${database.name}-${++keyN}`) {
      const res = await f.h.api('POST', `/admin/orders/${orderId}/refunds`, undefined, body, {
        ...admin,
        'idempotency-key': key,
      });
      return { status: res.status, body: (await res.json()) as RefundBody };
    },

    orderRow: (id: string) =>
      f.db.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    refundRows: (orderId: string) =>
      f.db.db
        .selectFrom('refunds')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('created_at')
        .execute(),
    anomalies: () => f.db.db.selectFrom('anomalies').selectAll().execute(),

    /** The refunds of the order in the order we settled them (`refund_settled` events), once each. */
    async settledInOrder(orderId: string) {
      const events = await f.db.db
        .selectFrom('order_events')
        .select('data')
        .where('order_id', '=', orderId)
        .where('type', '=', 'refund_settled')
        .orderBy('id')
        .execute();
      return events.map((e) => (JSON.parse(e.data) as { outRefundNo: string }).outRefundNo);
    },

    /** The simulator's refund notification attempts for an order, as it recorded them. */
    async refundAttempts(outTradeNo: string) {
      const sent = await f.h.sim(`/sim/notifications?out_trade_no=${outTradeNo}&kind=refund`);
      return (sent.json as { attempts: { out_refund_no: string; ok: boolean; http_status: number }[] })
        .attempts;
    },

    /** Moves both clocks past the simulator's refund delay and lets its notifications land. */
    async refundTimePasses() {
      await f.h.clock.advance(61_000);
      await f.h.clock.settle();
    },
  };

  beforeAll(async () => {
    f.db = await database.openMigrated();
    f.h = await startHarness(f.db, {
      version,
      env: await refundEnv(version),
      behaviour: { refundDelaySeconds: 60 },
    });
  });
  afterAll(async () => {
    expect(await moneyInvariantViolations(f.db.db)).toEqual([]);
    await f.h?.close();
    await f.db?.close();
  });
  return f;
}
