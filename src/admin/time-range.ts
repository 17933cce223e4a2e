import { AppError } from '../errors.js';

/**
 * The console's calendar is China Standard Time (UTC+08:00, no daylight saving), the time
 * WeChat Pay's bills and merchant platform use: "today" and a bare date mean that day in Beijing.
 */
export const CONSOLE_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of 00:00 Beijing time on `date` (YYYY-MM-DD), or undefined when it is no real date. */
function dayStart(date: string): number | undefined {
  const m = DATE.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const back = new Date(utc);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return utc - CONSOLE_UTC_OFFSET_MS;
}

/** [start, end) of one Beijing day. */
export function dayRange(date: string, name = 'date'): { start: number; end: number } {
  const start = dayStart(date);
  if (start === undefined)
    throw new AppError('VALIDATION_ERROR', `${name} must be a real date written YYYY-MM-DD.`);
  return { start, end: start + DAY_MS };
}

/** The Beijing date (YYYY-MM-DD) that `ms` falls on. */
export function beijingDate(ms: number): string {
  return new Date(ms + CONSOLE_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * A bound of a range filter: a date (the start of that Beijing day for `from`, the end of it for
 * `to`, so `to=2024-01-01` includes the whole day) or an ISO 8601 time with a zone.
 */
export function rangeBound(value: string, name: 'from' | 'to'): number {
  if (DATE.test(value)) {
    const { start, end } = dayRange(value, name);
    return name === 'from' ? start : end;
  }
  const ms = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new AppError(
      'VALIDATION_ERROR',
      `${name} must be a date (YYYY-MM-DD, Beijing time) or a time with a zone (2024-01-01T12:00:00Z).`,
    );
  }
  return name === 'from' ? ms : ms + 1;
}
