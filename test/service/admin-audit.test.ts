/** GET /admin/audit: the audit report over HTTP, for admins only, as `weapp-pay audit --json` has it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/audit/index.js';
import { seedEveryState, T0 } from '../audit/seed.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from './harness.js';

// The checks run on both databases in test/audit/; the route is the same on either.
const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;

describe('GET /admin/audit', () => {
  let db: TestDbHandle;
  let h: Harness;
  beforeAll(async () => {
    db = await sqlite.openMigrated();
    h = await startHarness(db);
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });

  it('answers the report to an admin: ok on a clean database, then the double-credited order', async () => {
    const { token } = await h.login();
    expect((await h.api('GET', '/admin/audit', token)).status).toBe(403);
    const s = await seedEveryState(db.db);

    const clean = await h.api('GET', '/admin/audit', CREDENTIALS.adminToken);
    expect(clean.status).toBe(200);
    const report = (await clean.json()) as AuditReport;
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'outbox-events')).toMatchObject({
      status: 'ok',
      count: 0,
    });

    const data = JSON.stringify({
      from: 'PENDING',
      to: 'PAID',
      transactionId: '4200002222',
      paidAt: T0,
      paidSource: 'query',
    });
    await db.db
      .insertInto('order_events')
      .values({ order_id: s.notified.id, type: 'state_changed', data, created_at: T0 })
      .execute();
    const broken = (await (await h.api('GET', '/admin/audit', CREDENTIALS.adminToken)).json()) as AuditReport;
    expect(broken.ok).toBe(false);
    expect(broken.checks.find((c) => c.name === 'single-credit')).toMatchObject({
      status: 'findings',
      count: 1,
      findings: [{ id: s.notified.id, detail: 'credited 2 times' }],
    });
  });
});
