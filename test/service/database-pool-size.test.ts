/**
 * DATABASE_POOL_SIZE reaches the pool the service opens for itself: with twelve statements in
 * flight at once, the service answers them on exactly as many PostgreSQL connections as it may
 * hold, and no more.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createService } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { testDatabases } from '../db/dialects.js';
import { CREDENTIALS, serviceSettings } from './harness.js';

const postgres = testDatabases().find((d) => d.name === 'postgres');

/** The distinct server processes (connections) that answered `n` concurrent slow statements. */
async function connectionsUsed(
  databaseUrl: string,
  poolSize: string | undefined,
  n: number,
): Promise<number> {
  const { config, catalogue } = serviceSettings({
    WECHAT_APPID: CREDENTIALS.appid,
    WECHAT_SECRET: CREDENTIALS.secret,
    WECHAT_MCHID: CREDENTIALS.mchId,
    WECHAT_MCH_KEY: CREDENTIALS.key,
    WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
    DATABASE_URL: databaseUrl,
    ...(poolSize === undefined ? {} : { DATABASE_POOL_SIZE: poolSize }),
  });
  const service = await createService({
    config,
    catalogue,
    log: createLogger('silent'),
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.2)`.execute(service.database.db),
      ),
    );
    return new Set(answers.map((a) => a.rows[0]?.pid)).size;
  } finally {
    await service.close();
  }
}

describe.runIf(postgres)('DATABASE_POOL_SIZE on postgres', () => {
  it('caps the connections one instance holds: 3 when set to 3, 10 by default', async () => {
    // A schema of its own (dropped on close); the service migrates it and opens its own pool.
    const schema = await postgres!.open();
    try {
      expect(await connectionsUsed(schema.url, '3', 12)).toBe(3);
      expect(await connectionsUsed(schema.url, undefined, 12)).toBe(10);
    } finally {
      await schema.close();
    }
  }, 30_000);
});
