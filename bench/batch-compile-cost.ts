/**
 * What building and compiling the notification batch's UPDATE costs per batch, against running
 * its size class's statement compiled once (src/db/size-classes.ts). Nothing is executed.
 *
 *   node --import tsx bench/batch-compile-cost.ts [items=20]
 */
import Database from 'better-sqlite3';
import { Kysely, type RawBuilder, sql } from 'kysely';
import type { Database as Schema } from '../src/db/database.js';
import { compiledPerSizeClass, padWithLast, range, type Slot } from '../src/db/size-classes.js';
import { ImmediateSqliteDialect } from '../src/db/sqlite-dialect.js';

type Item = Record<'id' | 'status' | 'source' | 'tx' | 'seen', string> & { at: number };
type Key = keyof Item;

const db = new Kysely<Schema>({
  dialect: new ImmediateSqliteDialect({ database: new Database(':memory:') }),
});
const n = Number(process.argv[2] ?? 20);
const items: Item[] = range(n).map((i) => ({
  id: `order-${i}-${Math.random()}`,
  status: 'PAID',
  source: 'notify',
  tx: `tx${i}`,
  at: 1000 + i,
  seen: 'PENDING',
}));

const update = (caseOf: (key: Key, type: string) => RawBuilder<never>, ids: string[]) =>
  db
    .updateTable('orders')
    .set({
      status: caseOf('status', 'text'),
      paid_source: caseOf('source', 'text'),
      transaction_id: caseOf('tx', 'text'),
      paid_at: caseOf('at', 'bigint'),
      updated_at: caseOf('at', 'bigint'),
    })
    .where('id', 'in', ids)
    .where('status', '=', caseOf('seen', 'text'))
    .returningAll()
    .compile();

const whenThen = (id: unknown, value: unknown, type: string) =>
  sql`when ${id} then cast(${value} as ${sql.raw(type)})`;
const perBatch = () =>
  update(
    (key, type) =>
      sql`case id ${sql.join(
        items.map((p) => whenThen(p.id, p[key], type)),
        sql` `,
      )} end` as RawBuilder<never>,
    items.map((p) => p.id),
  );
const perClass = compiledPerSizeClass((_: null, size, slot: (i: number, key: string) => Slot) =>
  update(
    (key, type) =>
      sql`case id ${sql.join(
        range(size).map((i) => whenThen(slot(i, 'id'), slot(i, key), type)),
        sql` `,
      )} end` as RawBuilder<never>,
    range(size).map((i) => slot(i, 'id') as unknown as string),
  ),
);
const bound = () => {
  const padded = padWithLast(items);
  return perClass(null, 'sqlite', n).bind((i, key) => padded[i]![key as Key]);
};

const microseconds = (run: () => unknown, reps = 3000) => {
  for (let i = 0; i < 300; i += 1) run();
  const started = performance.now();
  for (let i = 0; i < reps; i += 1) run();
  return (((performance.now() - started) / reps) * 1000).toFixed(1);
};
console.log(
  `UPDATE of ${n} items: build+compile per batch ${microseconds(perBatch)} µs; size class bind ${microseconds(bound)} µs`,
);
