import { CompiledQuery } from 'kysely';

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
