/**
 * `weapp-pay keys` as an operator runs it, against a SQLite file: the key is printed once and
 * only its hash kept; the list shows the last four; a revoked key no longer authenticates.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyHash } from '../../src/api-keys/api-key.js';
import { createApiKeys } from '../../src/api-keys/api-keys.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/open.js';
import { runCli, runMain, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function withDb<T>(file: string, act: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>) {
  const handle = await openDatabase(`sqlite:${file}`);
  try {
    return await act(handle);
  } finally {
    await handle.close();
  }
}

describe('weapp-pay keys', { timeout: 90_000 }, () => {
  it('creates a key, prints it once on stdout, and keeps only its SHA-256 and last four', async () => {
    const dir = tempDir(cleanups);
    const file = join(dir, 'shop.db');
    const env = { DATABASE_URL: `sqlite:${file}` };
    const created = await runCli(['keys', 'create', '--name', 'shop-backend'], { cwd: dir, env });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^wpk_[0-9A-Za-z]{32}$/);
    expect(created.stderr).toMatch(/Created API key key_[0-9A-Za-z]{12} \(shop-backend\)/);
    expect(created.stderr).not.toContain(key);

    const rows = await withDb(file, (h) => h.db.selectFrom('api_keys').selectAll().execute());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      name: 'shop-backend',
      key_hash: apiKeyHash(key),
      last_four: key.slice(-4),
    });
    expect(JSON.stringify(rows)).not.toContain(key.slice(4));

    const listed = await runMain(['keys', 'list'], { cwd: dir, env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(rows[0]!.id);
    expect(listed.stdout).toContain(`wpk_…${key.slice(-4)}`);
    expect(listed.stdout).toMatch(/never\s+-\n$/);
    expect(listed.stdout).not.toContain(key);
  });

  it('revokes a key: listed as revoked, refused with API_KEY_REVOKED; an unknown id is an error', async () => {
    const dir = tempDir(cleanups);
    const file = join(dir, 'shop.db');
    const env = { DATABASE_URL: `sqlite:${file}` };
    const key = (await runMain(['keys', 'create', '--name', 'old'], { cwd: dir, env })).stdout.trim();
    const json = await runMain(['keys', 'list', '--json'], { cwd: dir, env });
    const [listed] = JSON.parse(json.stdout) as { id: string; revokedAt: number | null }[];
    expect(listed?.revokedAt).toBeNull();

    const revoked = await runMain(['keys', 'revoke', listed!.id], { cwd: dir, env });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${listed!.id} (old)`);
    const after = JSON.parse((await runMain(['keys', 'list', '--json'], { cwd: dir, env })).stdout);
    expect(after[0].revokedAt).toEqual(expect.any(Number));
    await withDb(file, async (h) => {
      await expect(createApiKeys({ db: h.db, clock: systemClock }).authenticate(key)).rejects.toMatchObject({
        code: 'API_KEY_REVOKED',
      });
    });

    const unknown = await runMain(['keys', 'revoke', 'key_nope'], { cwd: dir, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no API key "key_nope"');
  });

  it('refuses a missing --name, a blank name and a database that does not exist', async () => {
    const dir = tempDir(cleanups);
    const env = { DATABASE_URL: `sqlite:${join(dir, 'shop.db')}` };
    const noName = await runMain(['keys', 'create'], { cwd: dir, env });
    expect([noName.code, noName.stderr]).toEqual([1, expect.stringContaining('--name is required')]);
    const blank = await runMain(['keys', 'create', '--name', '  '], { cwd: dir, env });
    expect([blank.code, blank.stderr]).toEqual([1, expect.stringContaining("A key's name must be 1 to 64")]);
    const missing = await runMain(['keys', 'list'], {
      cwd: dir,
      env: { DATABASE_URL: `sqlite:${dir}/none.db` },
    });
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('there is no database at')]);
  });

  it('shows each subcommand with its options and an example in --help', async () => {
    const dir = tempDir(cleanups);
    const help = await runMain(['keys', '--help'], { cwd: dir });
    expect(help.stdout).toMatch(/create[\s\S]*list[\s\S]*revoke/);
    const create = await runMain(['keys', 'create', '--help'], { cwd: dir });
    expect(create.stdout).toContain('--name <name>');
    expect(create.stdout).toContain('$ weapp-pay keys create --name shop-backend');
  });
});
