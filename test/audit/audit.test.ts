/**
 * `weapp-pay audit`'s checks on both databases: a database the service wrote passes every one,
 * and each corruption a broken writer (or a hand-edited row) could leave is reported by exactly
 * the check for it, with the offending order's id.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_CHECKS, type AuditReport, runAudit } from '../../src/audit/index.js';
import { MIGRATION_NAMES } from '../../src/db/migrations.js';
import { createRefundStore } from '../../src/orders/refund-store.js';
import { paymentObject } from '../../src/webhooks/objects.js';
import { createOutbox, recordEvents } from '../../src/webhooks/outbox.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { type Seeded, seedEveryState, T0 } from './seed.js';

const NOT_APPLICABLE = [
  ...(MIGRATION_NAMES.includes('0004_refunds') ? [] : ['refunds-within-paid', 'refund-count-limit']),
];

/** The checks that did not pass, with the ids each one named. */
function failing(report: AuditReport): Record<string, string[]> {
  return Object.fromEntries(
    report.checks
      .filter((c) => c.status !== 'ok' && c.status !== 'not_applicable')
      .map((c) => [c.name, c.findings.map((f) => f.id)]),
  );
}

for (const database of testDatabases()) {
  describe(`weapp-pay audit on ${database.name}`, () => {
    let handle: TestDbHandle | undefined;
    afterEach(() => handle?.close());

    async function seeded(): Promise<{ db: TestDbHandle['db']; s: Seeded }> {
      handle = await database.openMigrated();
      return { db: handle.db, s: await seedEveryState(handle.db) };
    }
    const event = (orderId: string, type: string, data: object) => ({
      order_id: orderId,
      type,
      data: JSON.stringify(data),
      created_at: T0 + 100,
    });

    it('passes every check on a database the service wrote, and says which checks do not apply', async () => {
      const { db, s } = await seeded();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({});
      expect(report.ok).toBe(true);
      expect(report.checks.map((c) => c.name)).toEqual(AUDIT_CHECKS.map((c) => c.name));
      expect(report.checks.filter((c) => c.status === 'not_applicable').map((c) => c.name)).toEqual(
        NOT_APPLICABLE,
      );
      // The baseline really holds what the checks look at.
      expect([s.pending, s.notified, s.queried, s.closed, s.review].map((o) => o.status)).toEqual([
        'PENDING',
        'PAID',
        'PAID',
        'CLOSED',
        'REVIEW',
      ]);
      const acks = await db
        .selectFrom('order_events')
        .select('order_id')
        .where('type', '=', 'notification_received')
        .execute();
      expect(acks.map((a) => a.order_id).sort()).toEqual([s.notified.id, s.notified.id, s.review.id]);
    });

    it('transaction-id-unique: the database refuses a second order with the same transaction_id; with the constraint dropped, the check names both orders', async () => {
      const { db, s } = await seeded();
      const shared = s.transactions[s.notified.id]!;
      await expect(
        db.updateTable('orders').set({ transaction_id: shared }).where('id', '=', s.pending.id).execute(),
      ).rejects.toThrow(/unique|orders_transaction_id_key/i);
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({});
      if (database.name === 'sqlite') return; // SQLite cannot drop a UNIQUE constraint of CREATE TABLE: no way around it.
      await sql`alter table orders drop constraint orders_transaction_id_key`.execute(db);
      await db.updateTable('orders').set({ transaction_id: shared }).where('id', '=', s.pending.id).execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'transaction-id-unique': [s.notified.id, s.pending.id].sort() });
      expect(report.checks[0]!.findings[0]!.detail).toContain(shared);
    });

    it('single-credit: a second state change into PAID for one order', async () => {
      const { db, s } = await seeded();
      const txn = s.transactions[s.queried.id]!;
      await db
        .insertInto('order_events')
        .values(
          event(s.queried.id, 'state_changed', {
            from: 'PENDING',
            to: 'PAID',
            transactionId: txn,
            paidAt: T0,
            paidSource: 'query',
          }),
        )
        .execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'single-credit': [s.queried.id] });
      expect(report.checks.find((c) => c.name === 'single-credit')!.findings[0]!.detail).toBe(
        'credited 2 times',
      );
    });

    it('status-backed-by-events: a PAID order without its state change into PAID', async () => {
      const { db, s } = await seeded();
      await db
        .deleteFrom('order_events')
        .where('order_id', '=', s.queried.id)
        .where('type', '=', 'state_changed')
        .execute();
      // Its payment.succeeded now announces a payment the order's own log does not hold.
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({
        'status-backed-by-events': [s.queried.id],
        'outbox-events': [s.queried.id],
      });
    });

    it('status-backed-by-events: an order set PAID by hand, with a transaction_id and a source but no events', async () => {
      const { db, s } = await seeded();
      await db
        .updateTable('orders')
        .set({ status: 'PAID', transaction_id: '4200009999', paid_at: T0, paid_source: 'query' })
        .where('id', '=', s.pending.id)
        .execute();
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({
        'status-backed-by-events': [s.pending.id],
      });
    });

    it('status-backed-by-events: a PAID order that lost its transaction_id', async () => {
      const { db, s } = await seeded();
      await db.updateTable('orders').set({ transaction_id: null }).where('id', '=', s.queried.id).execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'status-backed-by-events': [s.queried.id] });
      expect(report.checks.find((c) => c.name === 'status-backed-by-events')!.findings[0]!.detail).toMatch(
        /transaction_id, paid_at or paid_source missing/,
      );
    });

    it('status-backed-by-events: a CLOSED order without its close event, and a paid order set back to PENDING', async () => {
      const { db, s } = await seeded();
      await db.updateTable('orders').set({ status: 'CLOSED' }).where('id', '=', s.pending.id).execute();
      await db.updateTable('orders').set({ status: 'PENDING' }).where('id', '=', s.queried.id).execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'status-backed-by-events': [s.pending.id, s.queried.id].sort() });
      const details = report.checks
        .find((c) => c.name === 'status-backed-by-events')!
        .findings.map((f) => f.detail);
      expect(details).toEqual(
        expect.arrayContaining([
          'CLOSED: no state change into CLOSED',
          'PENDING: its last state change led to PAID',
        ]),
      );
    });

    it('status-backed-by-events: a REVIEW order whose anomaly is gone', async () => {
      const { db, s } = await seeded();
      await db.deleteFrom('anomalies').where('order_id', '=', s.review.id).execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'status-backed-by-events': [s.review.id] });
      expect(report.checks.find((c) => c.name === 'status-backed-by-events')!.findings[0]!.detail).toBe(
        'REVIEW: no anomaly recorded for a person',
      );
    });

    it('acknowledged-notifications-applied: a notification acknowledged for an order its payment never moved', async () => {
      const { db, s } = await seeded();
      await db
        .insertInto('order_events')
        .values(
          event(s.pending.id, 'notification_received', {
            verified: true,
            applied: true,
            transactionId: '4200007777',
            cashFee: 100,
          }),
        )
        .execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'acknowledged-notifications-applied': [s.pending.id] });
      expect(
        report.checks.find((c) => c.name === 'acknowledged-notifications-applied')!.findings[0]!.detail,
      ).toContain('4200007777');
    });

    it('acknowledged-notifications-applied: a held payment under REVIEW whose evidence is gone', async () => {
      const { db, s } = await seeded();
      await db.deleteFrom('payment_evidence').where('order_id', '=', s.review.id).execute();
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({
        'acknowledged-notifications-applied': [s.review.id],
      });
    });

    it('acknowledged-notifications-applied: a paid order whose credit names another transaction than the one acknowledged', async () => {
      const { db, s } = await seeded();
      await db
        .insertInto('order_events')
        .values(
          event(s.notified.id, 'notification_received', {
            verified: true,
            applied: false,
            transactionId: '4200005555',
            cashFee: 100,
          }),
        )
        .execute();
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({
        'acknowledged-notifications-applied': [s.notified.id],
      });
    });

    const refund = (orderId: string, n: number, amount: number) => ({
      id: `refund-${orderId}-${n}`,
      order_id: orderId,
      out_refund_no: `R${orderId}${n}`,
      amount,
      reason: 'audit test',
      status: 'PROCESSING',
      attempts: 0,
      requested_by: 'admin',
      created_at: T0 + 200,
      updated_at: T0 + 200,
    });

    it.runIf(MIGRATION_NAMES.includes('0004_refunds'))(
      'refunds-within-paid: two refunds written past the conditional UPDATE that add up to more than was paid',
      async () => {
        const { db, s } = await seeded();
        // The order's refunded_fen ledger has a CHECK; the refund rows themselves have none across rows.
        await db

          .insertInto('refunds')
          .values([refund(s.notified.id, 1, 60), refund(s.notified.id, 2, 60)])
          .execute();
        const report = await runAudit(db, AUDIT_CHECKS);
        expect(failing(report)).toEqual({ 'refunds-within-paid': [s.notified.id] });
        expect(report.checks.find((c) => c.name === 'refunds-within-paid')!.findings[0]!.detail).toBe(
          'refunds reserve 120 fen (ledger 0) of 100 fen paid',
        );
      },
    );

    it.runIf(MIGRATION_NAMES.includes('0004_refunds'))(
      'refund-count-limit: a 51st refund for one order',
      async () => {
        const { db, s } = await seeded();
        const rows = Array.from({ length: 51 }, (_, i) => refund(s.queried.id, i, 1));
        await db.insertInto('refunds').values(rows).execute();
        expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({ 'refund-count-limit': [s.queried.id] });
      },
    );

    it('outbox-events: a paid, closed or flagged order whose webhook event is missing', async () => {
      const { db, s } = await seeded();
      for (const order of [s.notified, s.closed, s.review]) {
        await db.deleteFrom('webhook_events').where('order_id', '=', order.id).execute();
      }
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'outbox-events': [s.notified.id, s.closed.id, s.review.id].sort() });
      expect(
        report.checks
          .find((c) => c.name === 'outbox-events')!
          .findings.map((f) => f.detail)
          .sort(),
      ).toEqual([
        'moved to CLOSED without its payment.closed event',
        'moved to PAID without its payment.succeeded event',
        'moved to REVIEW without its payment.review event',
      ]);
    });

    it('outbox-events: a settled refund without its event, and an event for a payment that never happened', async () => {
      const { db, s } = await seeded();
      const refunds = createRefundStore(db, createOutbox({ livemode: false }));
      const id = `audit-rf-${database.name}`;
      await refunds.reserve(
        { id, orderId: s.queried.id, outRefundNo: `R${id}`, amount: 1, reason: 'test', requestedBy: 'admin' },
        T0,
      );
      await refunds.settle(id, { status: 'SUCCESS', refundId: 'wxr-audit' }, T0);
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({});
      await db.deleteFrom('webhook_events').where('refund_id', '=', id).execute();
      await db.transaction().execute((trx) =>
        recordEvents(trx, [
          {
            type: 'payment.succeeded',
            object: paymentObject(s.pending),
            livemode: false,
            now: T0,
            orderId: s.pending.id,
          },
        ]),
      );
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(failing(report)).toEqual({ 'outbox-events': [s.pending.id, s.queried.id].sort() });
    });

    it('outbox-events: changes made before the outbox existed are not asked about', async () => {
      const { db, s } = await seeded();
      await db.deleteFrom('webhook_events').where('order_id', '=', s.closed.id).execute();
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({ 'outbox-events': [s.closed.id] });
      const { last } = await db
        .selectFrom('order_events')
        .select((eb) => eb.fn.max('id').as('last'))
        .executeTakeFirstOrThrow();
      await db
        .updateTable('webhook_outbox_start')
        .set({ order_event_id: Number(last) })
        .execute();
      expect(failing(await runAudit(db, AUDIT_CHECKS))).toEqual({});
    });

    it('reports a check that cannot run as an error, never as passing', async () => {
      const { db, s } = await seeded();
      await db
        .insertInto('order_events')
        .values(event(s.pending.id, 'state_changed', {}))
        .execute();
      await db
        .updateTable('order_events')
        .set({ data: 'not json' })
        .where('order_id', '=', s.pending.id)
        .where('type', '=', 'state_changed')
        .execute();
      const report = await runAudit(db, AUDIT_CHECKS);
      expect(report.ok).toBe(false);
      expect(report.checks.find((c) => c.name === 'single-credit')!.status).toBe('error');
    });

    it('refuses a database without the weapp-pay schema instead of passing it', async () => {
      handle = await database.open();
      await expect(runAudit(handle.db, AUDIT_CHECKS)).rejects.toThrow(
        /no weapp-pay tables.*weapp-pay migrate/,
      );
    });
  });
}
