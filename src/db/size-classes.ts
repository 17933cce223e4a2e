import { CompiledQuery, type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';

/**
 * Statements whose text depends on how many items a batch holds (`IN (…)` lists, `CASE id WHEN …`
 * branches, multi-row VALUES) are built, compiled by Kysely and prepared by the SQLite driver once
 * per size class instead of once per batch:
 *
 * - a batch of n items runs the statement of the smallest power of two ≥ n, padded by the caller
 *   with rows that change nothing (a repeated id in an `IN` list, a VALUES row filtered out);
 * - the statement is compiled once per class with {@link Slot}s for parameters, then each batch
 *   runs that compiled text with its own values put in the slots' places.
 *
 * @example
 * const lookUp = compiledPerSizeClass((db: Db, n, slot) =>
 *   db.selectFrom('orders').selectAll().where('id', 'in', range(n).map((i) => slot(i, 'id'))).compile());
 * const padded = padWithLast(ids);
 * await db.executeQuery(lookUp(db, 'sqlite', ids.length).bind((i) => padded[i]));
 */

/** A parameter's place: item `index`'s value named `key`. */
export class Slot {
  constructor(
    readonly index: number,
    readonly key: string,
  ) {}
}

/** The size class of a batch of n items: the smallest power of two ≥ n (1 for an empty batch). */
export function sizeClass(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/** [0, 1, …, n - 1]. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** `items` made `sizeClass(items.length)` long by repeating its last item (items must not be empty). */
export function padWithLast<T>(items: readonly T[]): T[] {
  const last = items[items.length - 1] as T;
  return [...items, ...Array.from({ length: sizeClass(items.length) - items.length }, () => last)];
}

export interface SizedStatement {
  /** The compiled text with each slot replaced by `value(index, key)`. */
  bind(value: (index: number, key: string) => unknown): CompiledQuery;
}

/**
 * Caches `build(size, slot)`'s compiled query per dialect and size class. `build` must depend on
 * nothing but its arguments; each call of the result returns the statement for n items' class.
 */
export function compiledPerSizeClass<Db>(
  build: (db: Db, size: number, slot: (index: number, key: string) => Slot) => CompiledQuery,
): (db: Db, dialect: string, n: number) => SizedStatement {
  const cache = new Map<string, CompiledQuery>();
  const slot = (index: number, key: string) => new Slot(index, key);
  return (db, dialect, n) => {
    const size = sizeClass(n);
    const cacheKey = `${dialect}:${size}`;
    let compiled = cache.get(cacheKey);
    if (!compiled) {
      compiled = build(db, size, slot);
      cache.set(cacheKey, compiled);
    }
    const template = compiled;
    return {
      bind(value) {
        const parameters = template.parameters.map((p) => (p instanceof Slot ? value(p.index, p.key) : p));
        return CompiledQuery.raw(template.sql, parameters);
      },
    };
  };
}

/** A statement compiled once per dialect: {@link compiledOnce}. */
export interface OnceStatement {
  /** The compiled text with each named value in its place. @throws {Error} for a value not given */
  bind(values: Readonly<Record<string, unknown>>): CompiledQuery;
}

/**
 * A statement of one fixed shape (the hot single-row look-ups and updates), built and compiled
 * by Kysely once per dialect instead of once per call, with a named placeholder for each value.
 * `build` must depend on nothing but its arguments, and the cache is per dialect only: every
 * Kysely instance it serves must compile alike (ours carry no query-rewriting plugins).
 *
 * @example
 * const findUser = compiledOnce((db: Db, value) =>
 *   db.selectFrom('users').selectAll().where('id', '=', value('id')).compile());
 * const { rows } = await db.executeQuery<UsersTable>(findUser(db, 'sqlite').bind({ id }));
 */
export function compiledOnce<Db>(
  build: (db: Db, value: <T = string>(key: string) => T) => CompiledQuery,
): (db: Db, dialect: string) => OnceStatement {
  const perDialect = compiledPerSizeClass((db: Db, _size, slot) =>
    build(db, <T>(key: string) => slot(0, key) as unknown as T),
  );
  return (db, dialect) => {
    const statement = perDialect(db, dialect, 1);
    return {
      bind: (values) =>
        statement.bind((_index, key) => {
          if (!Object.hasOwn(values, key)) throw new Error(`no value given for :${key}`);
          return values[key];
        }),
    };
  };
}

/** The type a VALUES cell is cast to: PostgreSQL gives a parameter in VALUES no type of its own. */
export type ColumnType = 'text' | 'integer' | 'bigint';

/**
 * `CASE id WHEN … THEN … END` with one branch per slot, for a batch UPDATE that sets each row its
 * own value; CAST so PostgreSQL knows the type of each value. A repeated id (padding) repeats
 * the same branch, and the first branch that matches wins.
 */
export function caseById(
  size: number,
  slot: (index: number, key: string) => Slot,
  key: string,
  type: ColumnType,
): RawBuilder<never> {
  const branches = range(size).map(
    (i) => sql`when ${slot(i, 'id')} then cast(${slot(i, key)} as ${sql.raw(type)})`,
  );
  return sql`case id ${sql.join(branches, sql` `)} end` as RawBuilder<never>;
}

/** {@link compiledInsert}'s statement for a batch of rows; `columns` are the ones it writes, in order. */
export interface CompiledInsert<Row> {
  (db: QueryExecutorProvider, dialect: string, rows: readonly Row[]): CompiledQuery;
  readonly columns: readonly string[];
}

/** What {@link compiledInsert} writes: the table, its columns in order, and what happens on conflict. */
export interface InsertShape<Row> {
  table: string;
  /**
   * Every column written, with its type. The first must never be NULL in a row: the padding rows
   * that fill a batch to its size class are NULL there, and `WHERE column1 IS NOT NULL` leaves them out.
   */
  columns: readonly (readonly [keyof Row & string, ColumnType])[];
  /** `ON CONFLICT (…) DO NOTHING` on these columns: a row that would collide is skipped. */
  skipConflictsOn?: readonly (keyof Row & string)[];
  /**
   * `ON CONFLICT (columns) DO UPDATE SET column = expression, … WHERE where`: `excluded.<column>`
   * names the new row's value. A row whose `where` does not hold is left as it was (and not
   * returned). PostgreSQL refuses to update one row twice in a statement, so the rows of a batch
   * must not share these columns' values.
   */
  updateConflictsOn?: {
    columns: readonly (keyof Row & string)[];
    set: Readonly<Partial<Record<keyof Row & string, RawBuilder<unknown>>>>;
    where?: RawBuilder<unknown>;
  };
  /** `RETURNING *`, or these columns: the rows written, in no particular order. */
  returning?: boolean | readonly (keyof Row & string)[];
}

/**
 * `(VALUES (cast(slot as type), …), …)`: `size` rows of `columns`, row i's cells being slot(i,
 * name). Both SQLite and PostgreSQL name its columns column1, column2, ….
 */
export function valuesRows(
  columns: readonly (readonly [string, ColumnType])[],
  size: number,
  slot: (index: number, key: string) => Slot,
): RawBuilder<unknown> {
  const rows = range(size).map(
    (i) => sql`(${sql.join(columns.map(([name, type]) => sql`cast(${slot(i, name)} as ${sql.raw(type)})`))})`,
  );
  return sql`(values ${sql.join(rows)})`;
}

function onConflict<Row>(shape: InsertShape<Row>): RawBuilder<unknown> {
  const columns = (names: readonly string[]) => sql.join(names.map((c) => sql.ref(c)));
  if (shape.skipConflictsOn) return sql` on conflict (${columns(shape.skipConflictsOn)}) do nothing`;
  const update = shape.updateConflictsOn;
  if (!update) return sql``;
  const set = Object.entries(update.set).map(
    ([column, value]) => sql`${sql.ref(column)} = ${value as RawBuilder<unknown>}`,
  );
  const where = update.where ? sql` where ${update.where}` : sql``;
  return sql` on conflict (${columns(update.columns)}) do update set ${sql.join(set)}${where}`;
}

/**
 * A multi-row INSERT compiled once per dialect and size class instead of built by Kysely per
 * batch: `INSERT INTO t (…) SELECT column1, … FROM (VALUES …) WHERE column1 IS NOT NULL`, where
 * a batch of n rows fills the first n VALUES rows and the rest of its class stays NULL. Padding
 * rows are never inserted, so they cannot collide with anything (an upsert or a unique key sees
 * only the real rows). Both SQLite and PostgreSQL name VALUES columns column1, column2, ….
 *
 * @example
 * const insertEvents = compiledInsert<EventRow>({ table: 'order_events', columns: [['order_id', 'text'], …] });
 * await trx.executeQuery(insertEvents(trx, 'sqlite', rows));
 */
export function compiledInsert<Row extends object>(shape: InsertShape<Row>): CompiledInsert<Row> {
  const names = shape.columns.map(([name]) => name);
  const [first] = names;
  if (first === undefined) throw new Error(`an INSERT into ${shape.table} needs a column`);
  if (shape.skipConflictsOn && shape.updateConflictsOn) {
    throw new Error(`an INSERT into ${shape.table} either skips or updates its conflicts, not both`);
  }
  const statement = compiledPerSizeClass((db: QueryExecutorProvider, size, slot) => {
    const selected = names.map((_, i) => sql.raw(`column${i + 1}`));
    const conflict = onConflict(shape);
    const returning = Array.isArray(shape.returning)
      ? sql` returning ${sql.join(shape.returning.map((c) => sql.ref(c)))}`
      : shape.returning
        ? sql` returning *`
        : sql``;
    return sql`insert into ${sql.table(shape.table)} (${sql.join(names.map((c) => sql.ref(c)))})
      select ${sql.join(selected)} from ${valuesRows(shape.columns, size, slot)} as batch
      where column1 is not null${conflict}${returning}`.compile(db);
  });
  const insert = (db: QueryExecutorProvider, dialect: string, rows: readonly Row[]) =>
    statement(db, dialect, rows.length).bind((i, name) => {
      const row = rows[i];
      if (row === undefined) return null; // padding
      const value = (row as Record<string, unknown>)[name] ?? null;
      if (value === null && name === first) {
        throw new Error(`${shape.table}.${first} must not be NULL: it tells real rows from padding`);
      }
      return value;
    });
  return Object.assign(insert, { columns: names });
}
