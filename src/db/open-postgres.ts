import { Kysely } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from './database.js';
import type { DbHandle, DbLog, OpenOptions } from './open.js';
import { OwnSchemaPostgresDialect } from './postgres-introspector.js';
import { recyclingPool } from './postgres-pool.js';
import { createQueryLog } from './query-log.js';

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** A transaction left open by a stuck client would hold row locks on orders; the server ends it. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/**
 * int8 (BIGINT, and count(*)) comes back from pg as a string by default, to be safe past 2^53.
 * Our int8 values are epoch milliseconds and counts, far below that, so read them as numbers.
 * Set per pool, not globally, so no other pg user in the process is affected.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Handles opened here remember how to open a second, timeout-free connection for migrations. */
const migrationOpeners = new WeakMap<DbHandle, () => DbHandle>();

export async function openPostgres(url: string, options: OpenOptions): Promise<DbHandle> {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const handle = createHandle(url, options.log, {
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // The server cancels slow statements; the client-side timeout is the backstop for a server
    // that stopped answering altogether (no RST, so no socket error): fail, never hang.
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  migrationOpeners.set(handle, () =>
    // Migrations may wait minutes for another instance's migration lock or rewrite a big table:
    // one connection, no statement timeout.
    createHandle(url, options.log, {
      max: 1,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    }),
  );
  return handle;
}

/**
 * A handle for running migrations: on PostgreSQL a separate single connection without the
 * statement timeouts; elsewhere the handle itself (closing it is then a no-op).
 */
export function migrationHandle(handle: DbHandle): DbHandle {
  const open = migrationOpeners.get(handle);
  return open ? open() : { ...handle, close: async () => {} };
}

function createHandle(url: string, log: DbLog | undefined, config: pg.PoolConfig): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'weapp-pay',
    keepAlive: true,
    types,
    ...config,
  });
  // An idle pooled client whose server went away emits 'error' on the pool; unhandled, that
  // would crash the process. The pool drops the client and connects afresh on the next query.
  pool.on('error', (err) => log?.warn({ err }, 'idle PostgreSQL connection lost; the pool will reconnect'));
  // Every connection keeps an error listener for its whole life: pg-pool listens only while a
  // connection is idle and the query wrapper only once a connection is checked out, and a
  // server-side kill (pg_terminate_backend, a restart) landing in neither window would emit
  // 'error' with no listener, which crashes the process. The failing query still rejects, and
  // a connection that errored is discarded on release (postgres-pool.ts).
  pool.on('connect', (client) => {
    client.on('error', (err) => log?.warn({ err }, 'PostgreSQL connection lost'));
  });
  const queryLog = createQueryLog(log);
  const db = new Kysely<Schema>({
    dialect: new OwnSchemaPostgresDialect({ pool: recyclingPool(pool) }),
    ...(queryLog ? { log: queryLog } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: 'postgres',
    close: () => {
      closing ??= db.destroy();
      return closing;
    },
  };
}
