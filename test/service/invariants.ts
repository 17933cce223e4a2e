import { AUDIT_CHECKS, runAudit } from '../../src/audit/index.js';
import type { Db } from '../../src/db/database.js';

/**
 * The money rules every test must leave intact: `weapp-pay audit`'s checks (src/audit/), so the
 * tests and the operator's command share one implementation. Returns one line per finding (and
 * per check that could not run); an empty list means the money rules held.
 */
export async function moneyInvariantViolations(db: Db): Promise<string[]> {
  const report = await runAudit(db, AUDIT_CHECKS);
  return report.checks.flatMap((c) =>
    c.status === 'error'
      ? [`${c.name}: could not run: ${c.reason}`]
      : c.findings.map((f) => `${c.name}: order ${f.id}: ${f.detail}`),
  );
}
