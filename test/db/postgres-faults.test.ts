import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbHandle, openDatabase } from '../../src/db/open.js';
import { postgresTestUrl, testDatabases } from './dialects.js';
import { startProxy, startSilentServer } from './tcp-proxy.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function timed<T>(work: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  return { ms: performance.now() - started, error };
}

const selectOne = (handle: DbHandle) => sql<{ one: number }>`select 1 as one`.execute(handle.db);

describe('PostgreSQL that does not answer', () => {
  it('fails in under 5 s with the default settings, never hangs, when the server accepts but stays silent', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const handle = await openDatabase(`postgres://postgres@127.0.0.1:${silent.port}/test`);
    cleanups.push(() => handle.close());
    const { ms, error } = await timed(selectOne(handle));
    expect(error).toBeInstanceOf(Error);
    expect(ms).toBeGreaterThan(2000);
    expect(ms).toBeLessThan(5000);
  });
});

const postgres = testDatabases().find((d) => d.name === 'postgres');

describe.runIf(postgres)('PostgreSQL faults mid-request', () => {
  async function throughProxy(options: { statementTimeoutMs?: number; poolSize?: number }) {
    const target = new URL(postgresTestUrl());
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    target.host = `127.0.0.1:${proxy.port}`;
    const handle = await openDatabase(target.toString(), options);
    cleanups.push(() => handle.close());
    await selectOne(handle); // a pooled connection exists before the fault
    return { proxy, handle };
  }

  it('gives up on a connection whose server went silent and recovers on a fresh one', async () => {
    // One pooled connection: without recycling, the stuck one would be handed out again.
    const { proxy, handle } = await throughProxy({ statementTimeoutMs: 500, poolSize: 1 });
    proxy.freeze();
    const stuck = await timed(selectOne(handle));
    expect(String(stuck.error)).toMatch(/timeout/i);
    expect(stuck.ms).toBeLessThan(3000);
    const after = await timed(selectOne(handle));
    expect(after.error).toBeUndefined();
    expect(after.ms).toBeLessThan(1000);
  });

  it('fails the in-flight query at once when the server restarts, and the next query succeeds', async () => {
    const { proxy, handle } = await throughProxy({ poolSize: 2 });
    const inFlight = timed(sql`select pg_sleep(2)`.execute(handle.db));
    await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.resetAll();
    const broken = await inFlight;
    expect(broken.error).toBeInstanceOf(Error);
    expect(broken.ms).toBeLessThan(1500);
    expect((await selectOne(handle)).rows).toEqual([{ one: 1 }]);
  });

  it('lets the server cancel a statement that runs past statementTimeoutMs', async () => {
    const handle = await openDatabase(postgresTestUrl(), { statementTimeoutMs: 300 });
    cleanups.push(() => handle.close());
    const { ms, error } = await timed(sql`select pg_sleep(3)`.execute(handle.db));
    expect(error).toMatchObject({ code: '57014' }); // query_canceled
    expect(ms).toBeLessThan(1500);
  });
});
