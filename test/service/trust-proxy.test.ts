import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/dialects.js';
import { type Harness, startHarness } from './harness.js';

const [sqlite] = testDatabases();

describe('TRUST_PROXY=true behind one proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(await sqlite!.openMigrated(), {
      env: { TRUST_PROXY: 'true', LOGIN_RATE_PER_MINUTE: '2' },
    });
  });
  afterAll(async () => h?.close());

  const attempt = (forwardedFor: string) =>
    h.api('POST', '/api/login', undefined, { code: 'not-a-real-code' }, { 'x-forwarded-for': forwardedFor });

  it('rate-limits by the address our proxy saw, whatever the client wrote to the left of it', async () => {
    // Each request claims a new address of its own; the proxy appended the same real one.
    const statuses: number[] = [];
    for (const spoofed of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) {
      statuses.push((await attempt(`${spoofed}, 203.0.113.7`)).status);
    }
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
    // Another client behind the same proxy is counted on its own.
    expect((await attempt('1.1.1.1, 203.0.113.8')).status).not.toBe(429);
  });
});
