import type { Db } from '../db/database.js';
import { tableExists } from './sql.js';

/** One thing a check found wrong: the offending row's id (an order id today) and what is wrong. */
export interface Finding {
  id: string;
  detail: string;
}

/**
 * One money rule as a read-only query. A check reads one consistent snapshot (one statement, or
 * statements that each stand alone), so it can run against a live service.
 */
export interface AuditCheck {
  /** Stable, kebab-case: scripts and the console key on it. */
  name: string;
  /** One line: the rule as an operator would state it. */
  description: string;
  /** Tables the rule needs beyond the core schema; when one is missing the check does not apply. */
  requires?: readonly string[];
  /** Set when the rule cannot apply whatever the database holds (the feature does not exist yet). */
  notApplicable?: string;
  findings(db: Db): Promise<Finding[]>;
}

export type CheckStatus = 'ok' | 'findings' | 'not_applicable' | 'error';

export interface CheckResult {
  name: string;
  description: string;
  status: CheckStatus;
  /** Every finding, however many are listed. */
  count: number;
  /** The first {@link MAX_LISTED_FINDINGS} findings, in id order. */
  findings: Finding[];
  /** Why the check does not apply, or the error that stopped it. */
  reason?: string;
}

export interface AuditReport {
  /** True when no check found anything and none failed to run. */
  ok: boolean;
  checks: CheckResult[];
}

export const MAX_LISTED_FINDINGS = 100;

/** The database holds no weapp-pay schema: auditing it would pass vacuously. */
export class AuditSchemaError extends Error {
  readonly code = 'AUDIT_NO_SCHEMA';
}

/**
 * Runs every check and reports each: ok, its findings, not applicable (and why), or the error
 * that stopped it (a check that cannot run never counts as passing). Reads only.
 *
 * @example
 * const report = await runAudit(db, AUDIT_CHECKS);
 * if (!report.ok) process.exitCode = 1;
 */
export async function runAudit(db: Db, checks: readonly AuditCheck[]): Promise<AuditReport> {
  if (!(await tableExists(db, 'orders'))) {
    throw new AuditSchemaError(
      'the database has no weapp-pay tables (no "orders" table): check DATABASE_URL, or run `weapp-pay migrate` first',
    );
  }
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(db, check));
  return { ok: results.every((r) => r.status === 'ok' || r.status === 'not_applicable'), checks: results };
}

async function runCheck(db: Db, check: AuditCheck): Promise<CheckResult> {
  const base = { name: check.name, description: check.description };
  if (check.notApplicable) {
    return { ...base, status: 'not_applicable', count: 0, findings: [], reason: check.notApplicable };
  }
  for (const table of check.requires ?? []) {
    if (!(await tableExists(db, table))) {
      const reason = `the database has no "${table}" table (a migration this database has not had)`;
      return { ...base, status: 'not_applicable', count: 0, findings: [], reason };
    }
  }
  try {
    const found = (await check.findings(db)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      ...base,
      status: found.length === 0 ? 'ok' : 'findings',
      count: found.length,
      findings: found.slice(0, MAX_LISTED_FINDINGS),
    };
  } catch (err) {
    return { ...base, status: 'error', count: 0, findings: [], reason: (err as Error).message };
  }
}
