import { randomUUID } from 'node:crypto';
import type { Db, UsersTable } from '../db/database.js';

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
      const row = await db
        .insertInto('users')
        .values({
          id: randomUUID(),
          openid: who.openid,
          unionid: who.unionid,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('openid').doUpdateSet((eb) => ({
            unionid: eb.fn.coalesce('excluded.unionid', 'users.unionid'),
            updated_at: now,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    },

    async findById(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
  };
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
