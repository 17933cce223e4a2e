import { batchesInFlight, writeTransaction } from '../db/commit-group.js';
import type { Db, SessionsTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledInsert } from '../db/size-classes.js';
import { createBatcher } from '../orders/batcher.js';
import { newSession } from './session-store.js';
import { upsertUsers } from './user-store.js';

export interface LoginRecord {
  userId: string;
  /** The bearer token; only its hash is stored. */
  token: string;
  expiresAt: number;
}

interface LoginWrite {
  who: { openid: string; unionid: string | null };
  now: number;
  ttlMs: number;
}

/** The login batch's sessions, one INSERT compiled once per size class (size-classes.ts). */
const insertSessions = compiledInsert<SessionsTable>({
  table: 'sessions',
  columns: [
    ['token_hash', 'text'],
    ['user_id', 'text'],
    ['created_at', 'bigint'],
    ['expires_at', 'bigint'],
    ['revoked_at', 'bigint'],
  ],
});

/**
 * What a login writes, the user (created or refreshed) and a new session, for every login that
 * arrives together in one transaction: one multi-row upsert, one multi-row insert, one commit
 * (group commit through batcher.ts). Each caller resolves only after that commit, so a token
 * handed out is a token on disk.
 *
 * Why: with SQLite's synchronous=FULL each commit is an fsync on the event loop. A login used to
 * be two commits (the upsert, then the session), which made it the costliest request the
 * service answers after an order (docs/performance.md, "Login").
 *
 * @example
 * const logins = createLoginWrites(db); // batches in flight: batchesInFlight (commit-group.ts)
 * const { userId, token } = await logins.record({ openid, unionid: null }, { now, ttlMs: 7 * 86_400_000 });
 */
export function createLoginWrites(db: Db, options: { maxConcurrent?: number } = {}) {
  const dialect = dialectOf(db);
  const batch = createBatcher<LoginWrite, LoginRecord>({
    maxConcurrent: options.maxConcurrent ?? batchesInFlight(dialect),
    run: (items) =>
      writeTransaction(db, async (trx) => {
        const users = await upsertUsers(
          trx,
          items.map((i) => ({ ...i.who, now: i.now })),
        );
        const sessions = items.map((i) => newSession(users.get(i.who.openid)!.id, i));
        await trx.executeQuery(
          insertSessions(
            trx,
            dialect,
            sessions.map((s) => s.row),
          ),
        );
        return sessions.map((s) => ({ userId: s.row.user_id, token: s.token, expiresAt: s.expiresAt }));
      }),
  });
  return {
    /** @throws {RangeError} when ttlMs is not positive (before anything is written) */
    async record(who: LoginWrite['who'], opts: { now: number; ttlMs: number }): Promise<LoginRecord> {
      if (!(opts.ttlMs > 0)) throw new RangeError(`session ttlMs must be positive (got ${opts.ttlMs})`);
      return batch.submit({ who, now: opts.now, ttlMs: opts.ttlMs });
    },
  };
}
