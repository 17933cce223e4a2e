import { createHash, randomBytes } from 'node:crypto';
import type { Db, SessionsTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledOnce } from '../db/size-classes.js';

export type SessionStore = ReturnType<typeof createSessionStore>;

/** 32 random bytes: 256 bits, well past the 128 bits that make a session token unguessable. */
const TOKEN_BYTES = 32;

/**
 * Opaque bearer tokens. Only their sha256 is stored, so reading the sessions table (a backup, a
 * SQL console) does not let anyone act as a user. A lookup by hash is an index probe on a value
 * the attacker cannot choose, so it leaks nothing useful through timing.
 */
/** Every authenticated request runs this look-up: compiled once per dialect. */
const liveSession = compiledOnce((db: Db, value) =>
  db
    .selectFrom('sessions')
    .select(['user_id', 'expires_at'])
    .where('token_hash', '=', value('tokenHash'))
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', value<number>('now'))
    .compile(),
);

export function createSessionStore(db: Db) {
  const dialect = dialectOf(db);
  return {
    async create(
      userId: string,
      opts: { now: number; ttlMs: number },
    ): Promise<{ token: string; expiresAt: number }> {
      const { token, expiresAt, row } = newSession(userId, opts);
      await db.insertInto('sessions').values(row).execute();
      return { token, expiresAt };
    },

    /** The session behind a token, or null when it is unknown, expired or revoked. */
    async resolve(token: string, now: number): Promise<{ userId: string; expiresAt: number } | null> {
      const { rows } = await db.executeQuery<Pick<SessionsTable, 'user_id' | 'expires_at'>>(
        liveSession(db, dialect).bind({ tokenHash: hashToken(token), now }),
      );
      const row = rows[0];
      return row ? { userId: row.user_id, expiresAt: row.expires_at } : null;
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
