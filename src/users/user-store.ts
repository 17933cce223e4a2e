import { sql } from 'kysely';
import type { Db, UsersTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledInsert } from '../db/size-classes.js';
import { timeOrderedUuid } from '../db/time-ordered-id.js';

export interface User {
  id: string;
  openid: string;
  unionid: string | null;
  createdAt: number;
  updatedAt: number;
}

export type UserStore = ReturnType<typeof createUserStore>;

/**
 * Users are keyed by WeChat's openid (per mini program); our own id is what everything else
 * references, so an openid never has to travel further than this table and the order row.
 */
export function createUserStore(db: Db) {
  return {
    /**
     * Creates the user on first login, or refreshes it. One statement (INSERT … ON CONFLICT), so
     * two logins of the same person racing each other both succeed and agree on the id.
     * A login without a unionid keeps the one already known: WeChat returns it only when the
     * mini program is bound to an open platform account, and that binding does not disappear.
     */
    async upsertByOpenid(who: { openid: string; unionid: string | null }, now: number): Promise<User> {
      const users = await upsertUsers(db, [{ ...who, now }]);
      return users.get(who.openid)!;
    },

    async findById(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
  };
}

/** A login to record: who WeChat said it was, and when. */
export interface UserSeen {
  openid: string;
  unionid: string | null;
  now: number;
}

/** The login batch's upsert, compiled once per size class (size-classes.ts). */
const insertUsers = compiledInsert<UsersTable>({
  table: 'users',
  columns: [
    ['id', 'text'],
    ['openid', 'text'],
    ['unionid', 'text'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
  ],
  updateConflictsOn: {
    columns: ['openid'],
    set: {
      unionid: sql`coalesce(excluded.unionid, users.unionid)`,
      updated_at: sql.ref('excluded.updated_at'),
    },
  },
  returning: true,
});

/**
 * Creates or refreshes several users in one statement (INSERT … ON CONFLICT … RETURNING), keyed
 * by openid. The same person twice in one call is written once: with the unionid if either
 * login carried one, at the later time (one statement may not update a row twice).
 */
export async function upsertUsers(db: Db, seen: readonly UserSeen[]): Promise<Map<string, User>> {
  const byOpenid = new Map<string, UserSeen>();
  for (const s of seen) {
    const known = byOpenid.get(s.openid);
    byOpenid.set(
      s.openid,
      known ? { ...s, unionid: s.unionid ?? known.unionid, now: Math.max(s.now, known.now) } : s,
    );
  }
  const { rows } = await db.executeQuery<UsersTable>(
    insertUsers(
      db,
      dialectOf(db),
      [...byOpenid.values()].map((s) => ({
        id: timeOrderedUuid(s.now),
        openid: s.openid,
        unionid: s.unionid,
        created_at: s.now,
        updated_at: s.now,
      })),
    ),
  );
  return new Map(rows.map((row) => [row.openid, toUser(row)]));
}

function toUser(row: UsersTable): User {
  return {
    id: row.id,
    openid: row.openid,
    unionid: row.unionid,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
