import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { apiKeysMigration } from './migration-0007-api-keys.js';

/**
 * 0007 rebuilds idempotency_keys: live keys from before the upgrade must keep working, so a
 * retry that spans the upgrade still finds its order. Run on the old table as 0001 made it.
 */
for (const database of testDatabases()) {
  describe(`migration 0007_api_keys on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.open();
      await sql`create table orders (id text primary key)`.execute(handle.db);
      await sql`create table idempotency_keys (
        user_id text not null, key text not null, request_hash text not null, state text not null,
        response_status integer, response_body text, order_id text,
        created_at bigint not null, expires_at bigint not null,
        constraint idempotency_keys_pkey primary key (user_id, key))`.execute(handle.db);
      await sql`insert into idempotency_keys values
        ('u1', 'done-key', 'h1', 'done', 201, '{"order":{}}', 'o1', 1000, 90000),
        ('u1', 'running', 'h2', 'in_flight', null, null, 'o2', 2000, 90000),
        ('admin', 'released', 'h3', 'in_flight', null, null, 'r3', 0, 90000)`.execute(handle.db);
      await apiKeysMigration().up(handle.db);
    });
    afterAll(() => handle.close());

    it('copies every key into the explicit columns: done keeps its reply, a released claim is interrupted', async () => {
      const rows = await handle.db.selectFrom('idempotency_keys').selectAll().orderBy('key').execute();
      expect(
        rows.map((r) => ({ ...r, claimed_at: Number(r.claimed_at), expires_at: Number(r.expires_at) })),
      ).toEqual([
        {
          scope: 'u1',
          key: 'done-key',
          request_hash: 'h1',
          state: 'done',
          resource_id: 'o1',
          claimed_at: 1000,
          completed_at: 1000,
          expires_at: 90000,
          response_status: 201,
          response_body: '{"order":{}}',
        },
        {
          scope: 'admin',
          key: 'released',
          request_hash: 'h3',
          state: 'interrupted',
          resource_id: 'r3',
          claimed_at: 0,
          completed_at: null,
          expires_at: 90000,
          response_status: null,
          response_body: null,
        },
        {
          scope: 'u1',
          key: 'running',
          request_hash: 'h2',
          state: 'in_flight',
          resource_id: 'o2',
          claimed_at: 2000,
          completed_at: null,
          expires_at: 90000,
          response_status: null,
          response_body: null,
        },
      ]);
    });

    it('refuses a state the engine does not know', async () => {
      await expect(
        sql`insert into idempotency_keys (scope, key, request_hash, state, claimed_at, expires_at)
          values ('u', 'k', 'h', 'released', 1, 2)`.execute(handle.db),
      ).rejects.toThrow(/check/i);
    });
  });
}
