import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';

/**
 * Kysely's SQLite dialect with two changes that matter for money:
 *
 * - Transactions start with `BEGIN IMMEDIATE`. A plain (deferred) `BEGIN` takes the write lock
 *   only at the first write; if another connection wrote in between, SQLite answers SQLITE_BUSY at
 *   once, without waiting for busy_timeout, because the snapshot is stale. Taking the write lock up
 *   front makes a second writer wait in busy_timeout instead, so callers never see SQLITE_BUSY.
 * - Migrations run inside a transaction. SQLite's DDL is transactional, but Kysely's adapter says
 *   otherwise, which would let two processes starting on one file apply a migration twice.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
