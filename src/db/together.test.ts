import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { together } from './together.js';

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
