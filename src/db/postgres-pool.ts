import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * The pg pool as Kysely sees it, with two repairs. First, a connection whose query hit pg's client-side
 * `query_timeout` is destroyed on release instead of going back to the pool. pg reports the
 * timeout but keeps the socket and the unanswered query; pooled again, that connection would
 * make every later query on it time out too, and the pool would never recover from a server
 * that stopped answering. Second, a socket error on a checked-out connection no
 * longer crashes the process (see wrapClient).
 */
export function recyclingPool(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrapClient(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

function wrapClient(client: pg.PoolClient): PostgresPoolClient {
  let stuck = false;
  // pg-pool listens for errors only while a client is idle. A socket error while it is checked
  // out (the server restarted mid-request) is emitted as 'error' with no listener, which would
  // crash the process. The failing query already rejects; here we only make sure the client is
  // thrown away.
  client.on('error', () => {
    stuck = true;
  });
  const query = (sql: string, parameters: ReadonlyArray<unknown>) =>
    client.query(sql, parameters as unknown[]).catch((err: unknown) => {
      if (err instanceof Error && err.message === 'Query read timeout') stuck = true;
      throw err;
    });
  return {
    // Kysely calls only the (sql, parameters) form: no cursor is configured.
    query: query as unknown as PostgresPoolClient['query'],
    // pg-pool destroys a client released with an error; it swaps `client.release` on every
    // checkout, so look it up at release time.
    release: (destroy?: boolean) =>
      client.release(stuck || destroy ? new Error('connection discarded') : undefined),
  };
}
