/**
 * The money-rule audit: each check is one rule as read-only SQL, run by `weapp-pay audit`,
 * `GET /admin/audit` and the test suites alike (test/service/invariants.ts).
 */
import type { AuditCheck } from './audit.js';
import { acknowledgedNotifications } from './checks/acknowledged-notifications.js';
import { outboxEvents } from './checks/outbox.js';
import { refundCountLimit, refundsWithinPaid } from './checks/refunds.js';
import { singleCredit } from './checks/single-credit.js';
import { statusBacked } from './checks/status-backed.js';
import { transactionIdUnique } from './checks/transaction-id-unique.js';

export * from './audit.js';
export { formatReport } from './format.js';

export const AUDIT_CHECKS: readonly AuditCheck[] = [
  transactionIdUnique,
  singleCredit,
  refundsWithinPaid,
  refundCountLimit,
  statusBacked,
  acknowledgedNotifications,
  outboxEvents,
];
