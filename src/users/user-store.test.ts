import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createUserStore } from './user-store.js';

for (const database of testDatabases()) {
  describe(`user store on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.openMigrated();
    });
    afterAll(() => handle.close());

    it('creates a user on first login and returns the same id on the next one', async () => {
      const users = createUserStore(handle.db);
      const first = await users.upsertByOpenid({ openid: 'o-first', unionid: null }, 1000);
      const again = await users.upsertByOpenid({ openid: 'o-first', unionid: 'u-1' }, 2000);
      expect(again).toEqual({
        id: first.id,
        openid: 'o-first',
        unionid: 'u-1',
        createdAt: 1000,
        updatedAt: 2000,
      });
      expect(await users.findById(first.id)).toEqual(again);
    });

    it('keeps a known unionid when a later login comes without one', async () => {
      const users = createUserStore(handle.db);
      await users.upsertByOpenid({ openid: 'o-union', unionid: 'u-kept' }, 1000);
      const later = await users.upsertByOpenid({ openid: 'o-union', unionid: null }, 3000);
      expect(later.unionid).toBe('u-kept');
    });

    it('survives 20 concurrent first logins of one openid: one user, every call answered with its id', async () => {
      const users = createUserStore(handle.db);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          users.upsertByOpenid({ openid: 'o-race', unionid: null }, 5000 + i),
        ),
      );
      expect(new Set(results.map((u) => u.id)).size).toBe(1);
      const rows = await handle.db.selectFrom('users').select('id').where('openid', '=', 'o-race').execute();
      expect(rows).toHaveLength(1);
    });

    it('finds nothing for an unknown id', async () => {
      expect(await createUserStore(handle.db).findById('nope')).toBeUndefined();
    });
  });
}
