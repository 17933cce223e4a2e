import type { CheckResult, CheckStatus } from './check.js';

const MARKS: Readonly<Record<CheckStatus, { mark: string; colour: string }>> = {
  ok: { mark: '✓', colour: '32' },
  warn: { mark: '!', colour: '33' },
  fail: { mark: '✗', colour: '31' },
  skip: { mark: '-', colour: '2' },
};

/** A failed check fails the run; warnings and skipped checks do not. */
export function passed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status !== 'fail');
}

/**
 * One line per check, its fix indented under it, and a summary line. Colours only when asked
 * (a TTY without NO_COLOR): a log file or a pipe gets plain marks.
 */
export function renderText(results: readonly CheckResult[], colour: boolean): string {
  const paint = (status: CheckStatus, text: string) =>
    colour ? `\x1b[${MARKS[status].colour}m${text}\x1b[0m` : text;
  const lines = results.map((r) => {
    const head = `${paint(r.status, MARKS[r.status].mark)} ${r.message}`;
    return r.fix ? `${head}\n    fix: ${r.fix}` : head;
  });
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const summary = passed(results)
    ? `All checks passed (${count('warn')} warning(s), ${count('skip')} skipped).`
    : `${count('fail')} check(s) failed, ${count('warn')} warning(s).`;
  return `${lines.join('\n')}\n\n${summary}\n`;
}

export function renderJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: passed(results), checks: results }, null, 2)}\n`;
}

export { wantsColour } from '../colour.js';
