import { sql } from 'kysely';
import { AUDIT_CHECKS, runAudit } from '../../src/audit/index.js';
import type { Db } from '../../src/db/database.js';

/**
 * The money rules every test must leave intact: `weapp-pay audit`'s checks (src/audit/), so the
 * tests and the operator's command share one implementation, plus two refund-ledger rules the
 * audit does not check yet: an order's refunded_fen equals its refunds not CLOSED, and its state
 * says whether its SUCCESS refunds cover the amount. Returns one line per finding (and per check
 * that could not run); an empty list means the money rules held.
 */
export async function moneyInvariantViolations(db: Db): Promise<string[]> {
  const report = await runAudit(db, AUDIT_CHECKS);
  const problems = report.checks.flatMap((c) =>
    c.status === 'error'
      ? [`${c.name}: could not run: ${c.reason}`]
      : c.findings.map((f) => `${c.name}: order ${f.id}: ${f.detail}`),
  );
  const ledgers = await sql<{ id: string; refunded: number; ledger: number }>`
    select o.id, o.refunded_fen as ledger,
      coalesce(sum(case when r.status <> 'CLOSED' then r.amount end), 0) as refunded
    from orders o left join refunds r on r.order_id = o.id
    group by o.id, o.refunded_fen`.execute(db);
  for (const row of ledgers.rows) {
    if (Number(row.refunded) !== Number(row.ledger))
      problems.push(`order ${row.id} ledger says ${row.ledger}, refunds say ${row.refunded}`);
  }
  const succeeded = await sql<{ id: string; status: string; amount: number; ok: number }>`
    select o.id, o.status, o.amount, coalesce(sum(r.amount), 0) as ok
    from orders o join refunds r on r.order_id = o.id and r.status = 'SUCCESS'
    group by o.id, o.status, o.amount`.execute(db);
  for (const row of succeeded.rows) {
    const full = Number(row.ok) === row.amount;
    if (row.status !== (full ? 'REFUNDED' : 'PARTIALLY_REFUNDED'))
      problems.push(`order ${row.id} is ${row.status} with ${row.ok} of ${row.amount} refunded`);
  }
  return problems;
}
