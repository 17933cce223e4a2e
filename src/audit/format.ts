import type { AuditReport, CheckResult } from './audit.js';

/** How many ids a line of the text report shows; --json lists up to MAX_LISTED_FINDINGS. */
const SHOWN = 5;

function line(r: CheckResult): string {
  switch (r.status) {
    case 'ok':
      return `ok              ${r.name}: ${r.description}`;
    case 'not_applicable':
      return `not applicable  ${r.name}: ${r.reason}`;
    case 'error':
      return `ERROR           ${r.name}: could not run: ${r.reason}`;
    case 'findings': {
      const shown = r.findings.slice(0, SHOWN).map((f) => `    ${f.id}: ${f.detail}`);
      const more = r.count > SHOWN ? [`    … and ${r.count - SHOWN} more (--json lists up to 100)`] : [];
      const head = `${r.count} finding${r.count === 1 ? '' : 's'}`.padEnd(16);
      return [`${head}${r.name}: ${r.description}`, ...shown, ...more].join('\n');
    }
    default: {
      const unreachable: never = r.status;
      throw new Error(`unhandled check status ${String(unreachable)}`);
    }
  }
}

/** The report for a person: one line per check, the first ids of each finding, then the verdict. */
export function formatReport(report: AuditReport): string {
  const failed = report.checks.filter((c) => c.status === 'findings' || c.status === 'error').length;
  const verdict = report.ok
    ? 'Audit passed: every money rule holds.'
    : `Audit FAILED: ${failed} check${failed === 1 ? '' : 's'} did not pass.`;
  return `${report.checks.map(line).join('\n')}\n\n${verdict}\n`;
}
