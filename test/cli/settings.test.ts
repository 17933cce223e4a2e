/**
 * What a new user meets first: `.env` is read (real variables win), the demo runs only when no
 * WeChat credential is set, and --help / unknown flags answer usefully. Through the real CLI.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVICE_VARIABLES } from '../../src/config.js';
import { REPO, runCli, runMain, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('.env and --env-file', { timeout: 90_000 }, () => {
  it('reads ./.env, names the file (never a value), and lets a real variable win', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(
      join(dir, '.env'),
      `# settings\nDATABASE_URL=sqlite:${dir}/from-dotenv.db\nLOG_LEVEL=info\n`,
    );
    const fromFile = await runCli(['migrate'], { cwd: dir });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).toContain(`settings: read ${join(dir, '.env')}`);
    expect(fromFile.stderr).not.toContain('from-dotenv.db');
    expect(existsSync(join(dir, 'from-dotenv.db'))).toBe(true);

    const real = await runCli(['migrate'], { cwd: dir, env: { DATABASE_URL: `sqlite:${dir}/from-env.db` } });
    expect(real.code).toBe(0);
    expect(real.stderr).toContain('the environment overrides DATABASE_URL');
    expect(existsSync(join(dir, 'from-env.db'))).toBe(true);
  });

  it('reads the file --env-file names, and refuses one that does not exist', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(join(dir, 'prod.env'), `DATABASE_URL=sqlite:${dir}/prod.db\n`);
    const ok = await runMain(['migrate', '--env-file', 'prod.env'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`settings: read ${join(dir, 'prod.env')}`);
    expect(existsSync(join(dir, 'prod.db'))).toBe(true);

    const missing = await runMain(['migrate', '--env-file', 'nope.env'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--env-file nope.env: the file does not exist');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('says when there is no .env file', async () => {
    const dir = tempDir(cleanups);
    const run = await runMain(['migrate'], { cwd: dir, env: { DATABASE_URL: `sqlite:${dir}/x.db` } });
    expect(run.stderr).toContain('settings: environment only (no .env file in this directory)');
  });
});

describe('demo or real', { timeout: 90_000 }, () => {
  it('refuses to start when some WECHAT_* credentials are in .env but not all, listing the missing ones', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(
      join(dir, '.env'),
      'WECHAT_APPID=wx1234567890abcdef\nWECHAT_MCHID=1900000109\nWECHAT_SECRET=\n',
    );
    const run = await runCli(['start', '--port', '0', '--simulator-port', '0'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'WECHAT_APPID, WECHAT_MCHID are set but WECHAT_SECRET, WECHAT_MCH_KEY are not. Set all the WeChat credentials to serve for real, or none of them to run the offline demo.',
    );
    expect(run.stdout).not.toContain('demo');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('runs the demo when none is set (an .env copied from .env.example), and says so in one line', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(join(dir, '.env'), `WECHAT_APPID=\nWECHAT_SECRET=\nDATABASE_URL=sqlite:${dir}/demo.db\n`);
    const run = await runMain(['start', '--port', '0', '--simulator-port', '0'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      'No WECHAT_* credentials are set, so this is the offline demo (set all the WeChat credentials to serve for real).',
    );
    expect(run.stdout).toMatch(/Browser demo {5}http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('refuses a misspelt credential instead of running the demo without it', async () => {
    const dir = tempDir(cleanups);
    const run = await runMain(['start', '--port', '0', '--simulator-port', '0'], {
      cwd: dir,
      env: { WECHAT_APP_ID: 'wx1234567890abcdef' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'WECHAT_APP_ID is not a setting weapp-pay knows (did you mean WECHAT_APPID?)',
    );
    expect(run.stdout).toBe('');
  });

  it('serves for real when all four are set in .env, and runs migrations forward first', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(
      join(dir, '.env'),
      [
        'WECHAT_APPID=wx1234567890abcdef',
        'WECHAT_SECRET=cli-test-secret-value',
        'WECHAT_MCHID=1900000109',
        'WECHAT_MCH_KEY=SimulatorTestKey0123456789abcdef',
        'WECHAT_NOTIFY_URL=https://shop.example.com/payment/wxnotify',
        `CATALOGUE_FILE=${join(REPO, 'catalogue.example.json')}`,
        `DATABASE_URL=sqlite:${dir}/real.db`,
        '',
      ].join('\n'),
    );
    const run = await runMain(['start', '--port', '0', '--host', '127.0.0.1'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^weapp-pay service listening on http:\/\/127\.0\.0\.1:\d+ \(database: sqlite\)$/m,
    );
    expect(run.stdout).not.toContain('demo');
    expect(run.stderr).not.toContain('SimulatorTestKey');
    const migrated = await runMain(['migrate'], { cwd: dir });
    expect(migrated.stdout).toBe('Database is up to date.\n');
  });

  it('refuses demo-only flags when serving for real', async () => {
    const dir = tempDir(cleanups);
    const env = {
      WECHAT_APPID: 'wx1234567890abcdef',
      WECHAT_SECRET: 's',
      WECHAT_MCHID: '1900000109',
      WECHAT_MCH_KEY: 'k'.repeat(32),
    };
    const run = await runMain(['start', '--simulator-port', '3200'], { cwd: dir, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--simulator-port applies to the demo only');
  });
});

describe('help', { timeout: 90_000 }, () => {
  it('lists every command, and each command lists its options and every variable it reads with an example', async () => {
    const dir = tempDir(cleanups);
    const top = await runCli(['--help'], { cwd: dir });
    expect(top.code).toBe(0);
    for (const name of ['start', 'serve', 'migrate', 'simulate', 'backup', 'restore']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    const start = await runCli(['start', '--help'], { cwd: dir });
    expect(start.code).toBe(0);
    for (const flag of ['--port', '--host', '--simulator-port', '--time-scale', '--env-file']) {
      expect(start.stdout).toContain(`${flag} <`);
    }
    for (const name of SERVICE_VARIABLES) expect(start.stdout).toMatch(new RegExp(`e\\.g\\. ${name}=\\S`));
    expect(start.stdout).toContain('$ weapp-pay start');
    const simulate = await runMain(['simulate', '--help'], { cwd: dir });
    for (const flag of [
      '--port',
      '--host',
      '--merchants',
      '--time-scale',
      '--tls-port',
      '--tls-cert',
      '--tls-key',
      '--tls-ca',
      '--cert-dir',
    ]) {
      expect(simulate.stdout).toContain(`${flag} <`);
    }
    expect(simulate.stdout).toContain('e.g. WECHAT_MCHID=');
    const migrate = await runMain(['help', 'migrate'], { cwd: dir });
    expect(migrate.stdout).toContain('e.g. DATABASE_URL=');
  });

  it('refuses an unknown flag with the nearest known one, and plain text when not on a terminal', async () => {
    const dir = tempDir(cleanups);
    const run = await runCli(['start', '--prot', '8080'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown option '--prot'");
    expect(run.stderr).toContain('(Did you mean --port?)');
    expect(run.stderr).not.toContain('\u001b[');
    const serve = await runMain(['serve', '--hots', 'x'], { cwd: dir });
    expect(serve.stderr).toContain('(Did you mean --host?)');
    const unknown = await runMain(['strat'], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('(Did you mean start?)');
  });
});
