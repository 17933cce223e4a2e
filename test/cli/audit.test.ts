/**
 * `weapp-pay audit` as an operator runs it: the real command in a child process against a SQLite
 * file the service's stores wrote, before and after a row is corrupted on purpose.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/audit/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openDatabase } from '../../src/db/open.js';
import { type Seeded, seedEveryState, T0 } from '../audit/seed.js';
import { runCli, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function seededFile(file: string): Promise<Seeded> {
  const handle = await openDatabase(`sqlite:${file}`);
  try {
    await migrateToLatest(handle);
    return await seedEveryState(handle.db);
  } finally {
    await handle.close();
  }
}

/** A second state change into PAID for `orderId`: a double credit. */
async function creditTwice(file: string, orderId: string): Promise<void> {
  const handle = await openDatabase(`sqlite:${file}`);
  try {
    const data = JSON.stringify({
      from: 'PENDING',
      to: 'PAID',
      transactionId: '4200001111',
      paidAt: T0,
      paidSource: 'query',
    });
    await handle.db
      .insertInto('order_events')
      .values({ order_id: orderId, type: 'state_changed', data, created_at: T0 })
      .execute();
  } finally {
    await handle.close();
  }
}

// Each test starts the real command three times; a busy machine needs more than the default.
describe('weapp-pay audit (the command, SQLite)', { timeout: 120_000 }, () => {
  it('passes a clean database with exit 0, then names the double-credited order and exits 1', async () => {
    const dir = tempDir(cleanups);
    const file = join(dir, 'pay.db');
    const s = await seededFile(file);
    const env = { DATABASE_URL: `sqlite:${file}` };

    const clean = await runCli(['audit'], { cwd: dir, env });
    expect(clean.stderr).not.toMatch(/error/i);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^ok\s+single-credit: /m);
    expect(clean.stdout).toMatch(/^ok\s+outbox-events: /m);
    expect(clean.stdout).toContain('Audit passed');

    await creditTwice(file, s.queried.id);
    const broken = await runCli(['audit'], { cwd: dir, env });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^1 finding\s+single-credit: /m);
    expect(broken.stdout).toContain(`    ${s.queried.id}: credited 2 times`);
    expect(broken.stdout).toContain('Audit FAILED: 1 check did not pass.');

    const json = await runCli(['audit', '--json'], { cwd: dir, env });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as AuditReport;
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => c.status === 'findings')).toEqual([
      expect.objectContaining({
        name: 'single-credit',
        count: 1,
        findings: [{ id: s.queried.id, detail: 'credited 2 times' }],
      }),
    ]);
  });

  it('reads DATABASE_URL from --env-file, and refuses a database file that does not exist without creating it', async () => {
    const dir = tempDir(cleanups);
    const file = join(dir, 'pay.db');
    await seededFile(file);
    writeFileSync(join(dir, 'audit.env'), `DATABASE_URL=sqlite:${file}\n`);
    const fromFile = await runCli(['audit', '--json', '--env-file', 'audit.env'], { cwd: dir });
    expect(fromFile.code).toBe(0);
    expect((JSON.parse(fromFile.stdout) as AuditReport).ok).toBe(true);

    const missing = await runCli(['audit'], { cwd: dir, env: { DATABASE_URL: 'sqlite:./nowhere.db' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`there is no database at ${join(dir, 'nowhere.db')}`);
    expect(missing.stdout).toBe('');
  });
});
