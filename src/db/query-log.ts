import type { LogEvent } from 'kysely';
import { isUniqueViolation } from './errors.js';
import type { DbLog } from './open.js';

/** Statements slower than this are logged as a warning: they hold locks other requests wait on. */
const SLOW_QUERY_MS = 500;

/**
 * Kysely's `log` hook. Only SQL text is logged, never parameters: those carry openids and
 * request bodies. Unique violations are not errors here: the stores catch them on purpose
 * (a duplicate anomaly, a transaction_id already used) and decide what they mean.
 */
export function createQueryLog(log: DbLog | undefined): ((event: LogEvent) => void) | undefined {
  if (!log) return undefined;
  return (event) => {
    const ms = Math.round(event.queryDurationMillis);
    if (event.level === 'error') {
      if (isUniqueViolation(event.error)) return;
      log.error({ err: event.error, sql: event.query.sql, ms }, 'database query failed');
    } else if (ms >= SLOW_QUERY_MS) {
      log.warn({ sql: event.query.sql, ms }, 'slow database query');
    }
  };
}
