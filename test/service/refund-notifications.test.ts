import { describe, expect, it } from 'vitest';
import { testDatabases } from '../db/dialects.js';
import { API_VERSIONS } from './harness.js';
import { useRefundHarness } from './refund-fixture.js';
import {
  postRefundNotification,
  type RefundNotice,
  refundNotification,
  sendRefundNotification,
} from './refund-notification.js';

/**
 * WeChat's refund notifications as they really arrive, on both API versions and both databases,
 * through the simulator over HTTP: two copies at once, a later refund's notification first, a
 * refund notification before its payment's; and genuine notifications that do not match what we
 * saved. Each refund is settled once, by one conditional update; a refused report changes no
 * refund and is sent again by WeChat.
 */
for (const version of API_VERSIONS)
  for (const database of testDatabases()) {
    describe(`refund notifications on ${database.name}, API ${version}`, () => {
      const f = useRefundHarness(version, database);
      const {
        paidOrder,
        refund,
        orderRow,
        refundRows,
        anomalies,
        settledInOrder,
        refundAttempts,
        refundTimePasses,
      } = f;
      /** The rows a refund notification could change. */
      async function everything() {
        const out: Record<string, unknown[]> = {};
        for (const t of ['orders', 'order_events', 'refunds', 'anomalies', 'wechat_notifications'] as const)
          out[t] = await f.db.db.selectFrom(t).selectAll().execute();
        return out;
      }

      /** How each version says no: v2 a FAIL reply with this return_msg, v3 a 4xx with this code. */
      const REFUSED: Record<string, Record<typeof version, [number, string]>> = {
        'a refund we do not know': { v2: [200, 'REFUND_NOT_FOUND'], v3: [404, 'REFUND_NOT_FOUND'] },
        'another amount': { v2: [200, 'REFUND_MISMATCH'], v3: [400, 'NOTIFICATION_MISMATCH'] },
        'another order': { v2: [200, 'REFUND_MISMATCH'], v3: [400, 'NOTIFICATION_MISMATCH'] },
        'another merchant': { v2: [200, 'APPID_MCHID_MISMATCH'], v3: [400, 'NOTIFICATION_MISMATCH'] },
      };
      const CHANGE: Record<string, (n: RefundNotice) => RefundNotice> = {
        'a refund we do not know': (n) => ({ ...n, outRefundNo: `RUNKNOWN${version}${database.name}` }),
        'another amount': (n) => ({ ...n, refundFee: 801 }),
        'another order': (n) => ({ ...n, outTradeNo: 'SOME_OTHER_ORDER' }),
        'another merchant': (n) => ({ ...n, mchId: '1900000110' }),
      };

      it('refuses a genuine refund notification for a refund we do not know, another amount, order or merchant, and changes no refund', async () => {
        const order = await paidOrder();
        const r = await refund(order.id, { amount: 800, reason: 'checked' });
        const notice = {
          outTradeNo: order.outTradeNo,
          outRefundNo: r.body.refund.outRefundNo,
          totalFee: 2800,
          refundFee: 800,
        };
        for (const [what, change] of Object.entries(CHANGE)) {
          const [status, code] = REFUSED[what]![version];
          const answer = await sendRefundNotification(f.h, change(notice));
          expect({ what, ...answer }).toEqual({ what, accepted: false, status, code });
        }
        expect((await refundRows(order.id))[0]?.status).toBe('PROCESSING');
        expect(await orderRow(order.id)).toMatchObject({ status: 'PAID', refunded_fen: 800 });
        const kinds = (await anomalies()).map((a) => [a.kind, a.ref]);
        expect(kinds).toContainEqual(['unknown_out_refund_no', `RUNKNOWN${version}${database.name}`]);
        expect(kinds).toContainEqual(['refund_mismatch', notice.outRefundNo]);

        // The right notification then settles it; the same message again, and WeChat's own
        // notification later, change nothing.
        const right = refundNotification(f.h, notice);
        expect((await postRefundNotification(f.h, right)).accepted).toBe(true);
        expect((await refundRows(order.id))[0]?.status).toBe('SUCCESS');
        if (right.id) {
          const logged = await f.db.db
            .selectFrom('wechat_notifications')
            .selectAll()
            .where('id', '=', right.id)
            .executeTakeFirstOrThrow();
          expect(logged).toMatchObject({ event_type: 'REFUND.SUCCESS', outcome: 'refund_settled' });
        }
        const before = await everything();
        expect((await postRefundNotification(f.h, right)).accepted).toBe(true);
        expect(await everything()).toEqual(before);
        await refundTimePasses();
        expect((await refundAttempts(order.outTradeNo)).map((a) => a.ok)).toEqual([true]);
        expect(await settledInOrder(order.id)).toEqual([notice.outRefundNo]);
      });

      it('ends REFUNDED when the refund notification overtakes the payment notification, each applied once', async () => {
        const { order, payment, token } = await f.placeOrder();
        // The payment notification is held back until the order's next notification (the refund's) has gone out.
        await f.h.sim('/sim/faults', { fault: 'REORDER', out_trade_no: order.outTradeNo, times: 1 });
        await f.pay(payment);
        expect((await orderRow(order.id)).status).toBe('PENDING');
        expect((await f.h.api('POST', `/api/orders/${order.id}/sync`, token)).status).toBe(200);
        expect((await orderRow(order.id)).status).toBe('PAID');

        const r = await refund(order.id, { amount: 2800, reason: 'overtaken' });
        const held = await f.h.sim(`/sim/notifications?out_trade_no=${order.outTradeNo}&kind=payment`);
        expect((held.json as { attempts: { sent_at: string | null }[] }).attempts).toMatchObject([
          { sent_at: null },
        ]);
        await refundTimePasses();
        const sent = await f.h.sim(`/sim/notifications?out_trade_no=${order.outTradeNo}`);
        const attempts = (sent.json as { attempts: { kind: string; ok: boolean }[] }).attempts;
        expect(attempts.map((a) => [a.kind, a.ok]).sort()).toEqual([
          ['payment', true],
          ['refund', true],
        ]);
        expect(await orderRow(order.id)).toMatchObject({ status: 'REFUNDED', refunded_fen: 2800 });
        expect(await settledInOrder(order.id)).toEqual([r.body.refund.outRefundNo]);
        const intoPaid = await f.db.db
          .selectFrom('order_events')
          .select('data')
          .where('order_id', '=', order.id)
          .where('type', '=', 'state_changed')
          .execute();
        expect(intoPaid.filter((e) => e.data.includes('"to":"PAID"'))).toHaveLength(1);
      });

      it('settles a refund once when its notification arrives as two copies at the same moment', async () => {
        const order = await paidOrder();
        await f.h.sim('/sim/faults', { fault: 'NOTIFY_DUPLICATE', out_trade_no: order.outTradeNo, times: 1 });
        const r = await refund(order.id, { amount: 700, reason: 'twice' });
        await refundTimePasses();
        const attempts = await refundAttempts(order.outTradeNo);
        expect(attempts.map((a) => [a.out_refund_no, a.ok])).toEqual([
          [r.body.refund.outRefundNo, true],
          [r.body.refund.outRefundNo, true],
        ]);
        expect((await refundRows(order.id))[0]).toMatchObject({ status: 'SUCCESS', amount: 700 });
        expect(await orderRow(order.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_fen: 700 });
        expect(await settledInOrder(order.id)).toEqual([r.body.refund.outRefundNo]);
      });

      it('applies a later refund notified before an earlier one, and then the earlier one', async () => {
        const order = await paidOrder();
        await f.h.sim('/sim/faults', { fault: 'REORDER', out_trade_no: order.outTradeNo, times: 1 });
        const earlier = await refund(order.id, { amount: 500, reason: 'earlier' });
        await f.h.clock.advance(30_000);
        const later = await refund(order.id, { amount: 600, reason: 'later' });
        // The earlier refund is done at WeChat at 60 s, but its notification is held back…
        await f.h.clock.advance(31_000);
        await f.h.clock.settle();
        expect((await refundRows(order.id)).map((x) => x.status)).toEqual(['PROCESSING', 'PROCESSING']);
        await f.h.clock.advance(28_000);
        await f.h.clock.settle();
        expect((await refundRows(order.id)).map((x) => x.status)).toEqual(['PROCESSING', 'PROCESSING']);
        // …until the later one, done at 90 s, has gone out first.
        await f.h.clock.advance(2_000);
        await f.h.clock.settle();
        expect(await settledInOrder(order.id)).toEqual([
          later.body.refund.outRefundNo,
          earlier.body.refund.outRefundNo,
        ]);
        expect((await refundAttempts(order.outTradeNo)).every((a) => a.ok)).toBe(true);
        expect((await refundRows(order.id)).map((x) => [x.amount, x.status])).toEqual([
          [500, 'SUCCESS'],
          [600, 'SUCCESS'],
        ]);
        expect(await orderRow(order.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_fen: 1100 });
      });
    });
  }
