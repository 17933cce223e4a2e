import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createLoginWrites } from './login-writes.js';
import { createSessionStore } from './session-store.js';

const HOUR = 3_600_000;

for (const database of testDatabases()) {
  describe(`login writes on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.openMigrated();
    });
    afterAll(() => handle.close());

    it('creates the user and a session whose token resolves to that user', async () => {
      const logins = createLoginWrites(handle.db);
      const { userId, token, expiresAt } = await logins.record(
        { openid: 'o-login-1', unionid: null },
        { now: 1000, ttlMs: HOUR },
      );
      expect(expiresAt).toBe(1000 + HOUR);
      expect(await createSessionStore(handle.db).resolve(token, 2000)).toEqual({
        userId,
        openid: expect.any(String),
        expiresAt,
      });
      const user = await handle.db
        .selectFrom('users')
        .selectAll()
        .where('openid', '=', 'o-login-1')
        .execute();
      expect(user).toEqual([
        { id: userId, openid: 'o-login-1', unionid: null, created_at: 1000, updated_at: 1000 },
      ]);
    });

    it('records logins that arrive together, the same person twice included, each with its own session', async () => {
      const logins = createLoginWrites(handle.db, { maxConcurrent: 2 });
      const who = (n: number, unionid: string | null = null) => ({ openid: `o-together-${n}`, unionid });
      const results = await Promise.all([
        logins.record(who(1), { now: 5000, ttlMs: HOUR }),
        logins.record(who(2), { now: 5000, ttlMs: HOUR }),
        logins.record(who(1, 'u-together'), { now: 5001, ttlMs: HOUR }),
        logins.record(who(3), { now: 5000, ttlMs: HOUR }),
        logins.record(who(1), { now: 5002, ttlMs: HOUR }),
      ]);
      // One person, one id, however their logins were grouped; and five distinct sessions.
      expect(new Set([results[0]!.userId, results[2]!.userId, results[4]!.userId]).size).toBe(1);
      expect(new Set(results.map((r) => r.userId)).size).toBe(3);
      expect(new Set(results.map((r) => r.token)).size).toBe(5);
      const sessions = createSessionStore(handle.db);
      for (const r of results)
        expect(await sessions.resolve(r.token, 6000)).toMatchObject({ userId: r.userId });
      const one = await handle.db
        .selectFrom('users')
        .selectAll()
        .where('openid', '=', 'o-together-1')
        .execute();
      // The unionid WeChat gave once is kept when a login comes without one.
      expect(one).toMatchObject([{ unionid: 'u-together' }]);
    });

    it('refuses a session without a positive lifetime and stores nothing for it', async () => {
      const logins = createLoginWrites(handle.db);
      await expect(
        logins.record({ openid: 'o-no-ttl', unionid: null }, { now: 1, ttlMs: 0 }),
      ).rejects.toThrow(RangeError);
      expect(
        await handle.db.selectFrom('users').selectAll().where('openid', '=', 'o-no-ttl').execute(),
      ).toEqual([]);
    });
  });
}
