import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
import { createSessionStore, type ResolvedSession } from './session-store.js';
import { createUserStore } from './user-store.js';

const HOUR = 3_600_000;

for (const database of testDatabases()) {
  describe(`session store on ${database.name}`, () => {
    let handle: TestDbHandle;
    let userId: string;
    beforeAll(async () => {
      handle = await database.openMigrated();
      userId = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-sess', unionid: null }, 0)).id;
    });
    afterAll(() => handle.close());

    it('issues a 256-bit base64url token and stores only its sha256', async () => {
      const sessions = createSessionStore(handle.db);
      const { token, expiresAt } = await sessions.create(userId, { now: 1000, ttlMs: HOUR });
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      expect(expiresAt).toBe(1000 + HOUR);
      const stored = await handle.db.selectFrom('sessions').selectAll().execute();
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(stored.some((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    });

    it('resolves a live token to its user until the moment it expires', async () => {
      const sessions = createSessionStore(handle.db);
      const { token } = await sessions.create(userId, { now: 10_000, ttlMs: HOUR });
      expect(await sessions.resolve(token, 10_000 + HOUR - 1)).toEqual({
        userId,
        openid: 'o-sess',
        expiresAt: 10_000 + HOUR,
      });
      expect(await sessions.resolve(token, 10_000 + HOUR)).toBeNull();
    });

    it('answers null for a revoked token and for one it never issued', async () => {
      const sessions = createSessionStore(handle.db);
      const { token } = await sessions.create(userId, { now: 20_000, ttlMs: HOUR });
      await sessions.revoke(token, 20_500);
      expect(await sessions.resolve(token, 20_600)).toBeNull();
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      expect(await sessions.resolve(tampered, 20_600)).toBeNull();
    });

    it('answers tokens asked together each by its own, in one look-up that joins the user', async () => {
      const sessions = createSessionStore(handle.db);
      const other = (await createUserStore(handle.db).upsertByOpenid({ openid: 'o-other', unionid: null }, 0))
        .id;
      const a = await sessions.create(userId, { now: 30_000, ttlMs: HOUR });
      const b = await sessions.create(other, { now: 30_000, ttlMs: 10 });
      const revoked = await sessions.create(other, { now: 30_000, ttlMs: HOUR });
      await sessions.revoke(revoked.token, 30_001);
      // b expires at 30_010: live for the caller whose clock reads 30_009, not for the one at 30_010.
      const ask = () =>
        Promise.all([
          sessions.resolve(a.token, 30_009),
          sessions.resolve(b.token, 30_009),
          sessions.resolve(b.token, 30_010),
          sessions.resolve(revoked.token, 30_009),
          sessions.resolve('never-issued', 30_009),
          sessions.resolve(a.token, 30_009),
        ]);
      let answers: (ResolvedSession | null)[] = [];
      const sent = await statementsSent(async () => {
        answers = await ask();
      });
      expect(answers.map((s) => s?.openid ?? null)).toEqual([
        'o-sess',
        'o-other',
        null,
        null,
        null,
        'o-sess',
      ]);
      expect(answers[1]).toEqual({ userId: other, openid: 'o-other', expiresAt: 30_010 });
      if (database.name === 'postgres') expect(sent).toHaveLength(1);
    });

    it('gives every session a different token', async () => {
      const sessions = createSessionStore(handle.db);
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => sessions.create(userId, { now: 0, ttlMs: HOUR })),
      );
      expect(new Set(tokens.map((t) => t.token)).size).toBe(20);
    });
  });
}
