import { createHash, randomBytes } from 'node:crypto';
import { batchedLookUp } from '../db/batched-look-up.js';
import type { Db, SessionsTable } from '../db/database.js';
import { compiledPerSizeClass, range } from '../db/size-classes.js';

export type SessionStore = ReturnType<typeof createSessionStore>;

/** 32 random bytes: 256 bits, well past the 128 bits that make a session token unguessable. */
const TOKEN_BYTES = 32;

/**
 * Opaque bearer tokens. Only their sha256 is stored, so reading the sessions table (a backup, a
 * SQL console) does not let anyone act as a user. A lookup by hash is an index probe on a value
 * the attacker cannot choose, so it leaks nothing useful through timing.
 */
/**
 * Every authenticated request runs this look-up, session and user in one statement. Tokens asked
 * together share one (a repeated hash pads it to its size class, see size-classes.ts); each
 * caller then checks the expiry against its own clock reading.
 */
const liveSessions = compiledPerSizeClass((db: Db, size, slot) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.token_hash', 'sessions.user_id', 'sessions.expires_at', 'users.openid'])
    .where(
      'sessions.token_hash',
      'in',
      range(size).map((i) => slot(i, 'tokenHash') as unknown as string),
    )
    .where('sessions.revoked_at', 'is', null)
    .compile(),
);

type LiveSession = Pick<SessionsTable, 'token_hash' | 'user_id' | 'expires_at'> & { openid: string };

/** Who a live token belongs to. */
export interface ResolvedSession {
  userId: string;
  openid: string;
  expiresAt: number;
}

export function createSessionStore(db: Db) {
  const liveSession = batchedLookUp<LiveSession>(db, liveSessions, (row) => row.token_hash);
  return {
    async create(
      userId: string,
      opts: { now: number; ttlMs: number },
    ): Promise<{ token: string; expiresAt: number }> {
      const { token, expiresAt, row } = newSession(userId, opts);
      await db.insertInto('sessions').values(row).execute();
      return { token, expiresAt };
    },

    /** The session and user behind a token, or null when it is unknown, expired or revoked. */
    async resolve(token: string, now: number): Promise<ResolvedSession | null> {
      const row = await liveSession(hashToken(token));
      return row && row.expires_at > now
        ? { userId: row.user_id, openid: row.openid, expiresAt: row.expires_at }
        : null;
    },

    /** Revokes a live session; revoking twice keeps the first revocation time. */
    async revoke(token: string, now: number): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('token_hash', '=', hashToken(token))
        .where('revoked_at', 'is', null)
        .execute();
    },
  };
}

/**
 * A fresh token for `userId` and the row that stores it (its hash, never the token).
 * @throws {RangeError} when ttlMs is not positive
 */
export function newSession(
  userId: string,
  opts: { now: number; ttlMs: number },
): { token: string; expiresAt: number; row: SessionsTable } {
  if (!(opts.ttlMs > 0)) throw new RangeError(`session ttlMs must be positive (got ${opts.ttlMs})`);
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const expiresAt = opts.now + opts.ttlMs;
  return {
    token,
    expiresAt,
    row: {
      token_hash: hashToken(token),
      user_id: userId,
      created_at: opts.now,
      expires_at: expiresAt,
      revoked_at: null,
    },
  };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
