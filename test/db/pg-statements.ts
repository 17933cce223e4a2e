import pg from 'pg';

/**
 * The text of every statement this process sends to PostgreSQL while `work` runs (savepoints
 * included), for a test that counts round trips.
 *
 *   const sent = await statementsSent(() => store.write(…));
 *   expect(sent).toHaveLength(1);
 */
export async function statementsSent(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (typeof args[0] === 'string') sent.push(args[0]);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}
