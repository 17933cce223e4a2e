/**
 * The service's recent request and notification log, kept in memory for `weapp-pay logs` and
 * GET /admin/logs. Bounded (the oldest entry goes when a new one comes), and redacted by what it
 * keeps: a method, a path without its query, a status, a code, a duration, an order id. Never a
 * header, a body, a query string or a token.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEntry {
  /** Increases by one per entry, from 1; a reader asks for entries `after` the last it saw. */
  seq: number;
  /** Epoch milliseconds when the answer went out. */
  time: number;
  level: LogLevel;
  kind: 'request' | 'notification';
  method: string;
  path: string;
  status: number;
  /** The error code of a refused request, or what a notification did (`paid`, `duplicate`, …). */
  outcome: string | null;
  durationMs: number;
  orderId: string | null;
}

export interface LogQuery {
  after?: number;
  orderId?: string;
  /** The lowest level returned. */
  level?: LogLevel;
  limit: number;
}

export interface LogRing {
  readonly capacity: number;
  /** Keeps `entry` itself (no copy: this is on every request) and sets its `seq`. */
  add(entry: LogEntry): void;
  /**
   * Entries after `query.after` that match, oldest first, at most `limit`; `next` is the `after`
   * of the following read (the last entry looked at, so a limited read resumes where it stopped).
   */
  read(query: LogQuery): { entries: LogEntry[]; next: number };
}

/** Enough for a developer's session or an incident's last minutes, at about 200 bytes each. */
export const DEFAULT_LOG_CAPACITY = 2000;

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogRing(capacity = DEFAULT_LOG_CAPACITY): LogRing {
  // A fixed array written round and round: adding is one store, nothing is shifted or copied.
  const slots: (LogEntry | undefined)[] = new Array(capacity);
  let seq = 0;
  return {
    capacity,
    add(entry) {
      seq += 1;
      entry.seq = seq;
      slots[seq % capacity] = entry;
    },
    read({ after = 0, orderId, level, limit }) {
      const entries: LogEntry[] = [];
      const minRank = level === undefined ? 0 : RANK[level];
      // A cursor beyond the newest entry was handed out before a restart: start again from the oldest.
      const from = after > seq ? 0 : after;
      let s = Math.max(from, seq - capacity, 0);
      while (s < seq && entries.length < limit) {
        s += 1;
        const e = slots[s % capacity];
        if (!e || e.seq !== s || RANK[e.level] < minRank) continue;
        if (orderId !== undefined && e.orderId !== orderId) continue;
        entries.push(e);
      }
      return { entries, next: Math.max(s, from) };
    },
  };
}
