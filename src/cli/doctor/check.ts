/** One line of `weapp-pay doctor`: what was checked, how it went, and for a failure what to change. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable, for `--json` readers: `settings.WECHAT_MCH_KEY`, `online.v2-key`, `database.migrations`. */
  id: string;
  status: CheckStatus;
  /** One line. Never holds a secret: names settings, lengths and serials, never values of keys. */
  message: string;
  /** For a warning or a failure: which setting to change, and what it should look like. */
  fix?: string;
}

export const ok = (id: string, message: string): CheckResult => ({ id, status: 'ok', message });
export const skip = (id: string, message: string): CheckResult => ({ id, status: 'skip', message });
export const warn = (id: string, message: string, fix: string): CheckResult => ({
  id,
  status: 'warn',
  message,
  fix,
});
export const fail = (id: string, message: string, fix: string): CheckResult => ({
  id,
  status: 'fail',
  message,
  fix,
});
