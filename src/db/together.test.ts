import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { runTogether, together } from './together.js';

describe('together', () => {
  const a = CompiledQuery.raw('insert into t (x, y) values ($1, $2)', ['a1', 'a2']);
  const b = CompiledQuery.raw('insert into u (x) values ($1), ($2), ($3)', ['b1', 'b2', 'b3']);
  const c = CompiledQuery.raw('insert into v (x, y) select $1, $2 where $1 is not null', ['c1', 'c2']);

  it('makes one PostgreSQL statement, each placeholder renumbered after the ones before it', () => {
    const [one, ...rest] = together('postgres', [a, b, c]);
    expect(rest).toEqual([]);
    expect(one!.sql).toBe(
      'with part0 as (insert into t (x, y) values ($1, $2)), ' +
        'part1 as (insert into u (x) values ($3), ($4), ($5)) ' +
        'insert into v (x, y) select $6, $7 where $6 is not null',
    );
    expect(one!.parameters).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'c1', 'c2']);
  });

  it('gives the same text for the same statements, with each call its own values', () => {
    const b2 = CompiledQuery.raw(b.sql, ['x', 'y', 'z']);
    const [first] = together('postgres', [a, b]);
    const [second] = together('postgres', [a, b2]);
    expect(second!.sql).toBe(first!.sql);
    expect(second!.parameters).toEqual(['a1', 'a2', 'x', 'y', 'z']);
  });

  it('reads the rows of an earlier statement from its part, when the caller wants those', () => {
    const [one] = together('postgres', [a, b, c], 0);
    expect(one!.sql).toBe(
      'with part0 as (insert into t (x, y) values ($1, $2)), ' +
        'part1 as (insert into u (x) values ($3), ($4), ($5)), ' +
        'part2 as (insert into v (x, y) select $6, $7 where $6 is not null) select * from part0',
    );
    expect(together('postgres', [a, b], 1)[0]!.sql).toBe(together('postgres', [a, b])[0]!.sql);
  });

  it('leaves SQLite statements, and a single statement, as they are', () => {
    expect(together('sqlite', [a, b, c])).toEqual([a, b, c]);
    expect(together('postgres', [a])).toEqual([a]);
    expect(together('postgres', [])).toEqual([]);
  });
});

for (const database of testDatabases().filter((d) => d.name === 'postgres')) {
  describe('together on PostgreSQL', () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.open();
      await sql`create table first_part (x text primary key)`.execute(handle.db);
      await sql`create table second_part (x text primary key)`.execute(handle.db);
    });
    afterAll(() => handle.close());

    const insert = (table: string, ...values: string[]) =>
      CompiledQuery.raw(
        `insert into ${table} (x) values ${values.map((_, i) => `($${i + 1})`).join(', ')}`,
        values,
      );
    const rows = async (table: string) =>
      (
        await handle.db.executeQuery<{ x: string }>(CompiledQuery.raw(`select x from ${table} order by x`))
      ).rows.map((r) => r.x);

    it('writes every part in one statement', async () => {
      const statements = together('postgres', [insert('first_part', 'a', 'b'), insert('second_part', 'c')]);
      expect(statements).toHaveLength(1);
      for (const statement of statements) await handle.db.executeQuery(statement);
      expect(await rows('first_part')).toEqual(['a', 'b']);
      expect(await rows('second_part')).toEqual(['c']);
    });

    it('writes no part when one fails', async () => {
      const [statement] = together('postgres', [insert('first_part', 'd'), insert('second_part', 'c')]);
      await expect(handle.db.executeQuery(statement!)).rejects.toThrow(/duplicate key/);
      expect(await rows('first_part')).toEqual(['a', 'b']);
    });
  });
}

for (const database of testDatabases()) {
  describe(`runTogether on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.open();
      await sql`create table parents (id text primary key)`.execute(handle.db);
      await sql`create table children (parent_id text not null references parents (id))`.execute(handle.db);
    });
    afterAll(() => handle.close());

    const p = (n: number) => (database.name === 'postgres' ? `$${n}` : '?');
    it('writes a parent and its child, in that order, and returns the parent rows asked for', async () => {
      const rows = await runTogether<{ id: string }>(
        handle.db,
        database.name,
        [
          CompiledQuery.raw(`insert into parents (id) values (${p(1)}), (${p(2)}) returning id`, [
            'p1',
            'p2',
          ]),
          CompiledQuery.raw(`insert into children (parent_id) values (${p(1)})`, ['p2']),
        ],
        0,
      );
      expect(rows.map((r) => r.id).sort()).toEqual(['p1', 'p2']);
      const children = await sql<{ parent_id: string }>`select parent_id from children`.execute(handle.db);
      expect(children.rows).toEqual([{ parent_id: 'p2' }]);
    });

    it('writes nothing of a batch whose child names no parent', async () => {
      const written = handle.db
        .transaction()
        .execute((trx) =>
          runTogether(trx, database.name, [
            CompiledQuery.raw(`insert into parents (id) values (${p(1)})`, ['p3']),
            CompiledQuery.raw(`insert into children (parent_id) values (${p(1)})`, ['nobody']),
          ]),
        );
      await expect(written).rejects.toThrow(/foreign key/i);
      const parents = await sql<{ id: string }>`select id from parents order by id`.execute(handle.db);
      expect(parents.rows.map((r) => r.id)).toEqual(['p1', 'p2']);
    });
  });
}
