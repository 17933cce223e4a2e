/**
 * Start-up failures a user can cause with one wrong setting. Each prints one paragraph naming the
 * setting to change, and no stack trace unless LOG_LEVEL=debug.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, runCli, runMain, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const PG = 'postgres://postgres@127.0.0.1:5432';
const STACK = /^\s+at /m;

const REAL = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'cli-test-secret-value',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcdef',
  WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
  CATALOGUE_FILE: join(REPO, 'catalogue.example.json'),
};

/** Holds a port, as another program would. */
async function busyPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(() => server.close());
  return (server.address() as { port: number }).port;
}

async function migrate(url: string, extra: Record<string, string> = {}) {
  return runMain(['migrate'], { cwd: tempDir(cleanups), env: { DATABASE_URL: url, ...extra } });
}

describe('PostgreSQL settings', { timeout: 90_000 }, () => {
  it('connection refused: names the host, the port and DATABASE_URL, with no stack (real CLI)', async () => {
    const run = await runCli(['migrate'], {
      cwd: tempDir(cleanups),
      env: { DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/pay' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'weapp-pay: PostgreSQL refused the connection at 127.0.0.1:1 (DATABASE_URL=postgres://app:***@127.0.0.1:1/pay): nothing listens there. Start PostgreSQL, or correct the host and port in DATABASE_URL.',
    );
    expect(run.stderr).not.toContain('hunter2');
    expect(run.stderr).not.toMatch(STACK);
  });

  it('prints the stack as well at LOG_LEVEL=debug', async () => {
    const run = await migrate('postgres://app@127.0.0.1:1/pay', { LOG_LEVEL: 'debug' });
    expect(run.stderr).toContain('PostgreSQL refused the connection');
    expect(run.stderr).toMatch(STACK);
  });

  it('host not found', async () => {
    const run = await migrate('postgres://app@no-such-host.invalid:5432/pay');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The database host in DATABASE_URL was not found');
    expect(run.stderr).toContain('"no-such-host.invalid" does not resolve');
  });

  it('database missing (3D000)', async () => {
    const run = await migrate(`${PG}/weapp_pay_no_such_db`);
    expect(run.stderr).toContain(
      'PostgreSQL at 127.0.0.1:5432 has no database "weapp_pay_no_such_db" (DATABASE_URL=postgres://postgres@127.0.0.1:5432/weapp_pay_no_such_db). Create it (createdb weapp_pay_no_such_db) or correct the database name',
    );
    expect(run.stderr).not.toMatch(STACK);
  });

  it('role missing (28000)', async () => {
    const run = await migrate('postgres://weapp_pay_no_such_role@127.0.0.1:5432/test');
    expect(run.stderr).toContain('has no role "weapp_pay_no_such_role"');
    expect(run.stderr).toContain('correct the user name in DATABASE_URL');
  });

  it('TLS asked for but the server offers none', async () => {
    const run = await migrate(`${PG}/test?sslmode=no-verify`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'DATABASE_URL asks for TLS (sslmode), but PostgreSQL at 127.0.0.1:5432 does not offer it',
    );
  });
});

describe('SQLite settings', { timeout: 90_000 }, () => {
  it('a path that cannot be created names DATABASE_URL and a writable example', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const run = await migrate(`sqlite:${dir}/a-file/pay.db`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The SQLite database ${dir}/a-file/pay.db cannot be created or written`);
    expect(run.stderr).toContain('Point DATABASE_URL at a writable file');
    const folder = await migrate(`sqlite:${dir}`);
    expect(folder.stderr).toContain('SQLITE_CANTOPEN');
    expect(folder.stderr).not.toMatch(STACK);
  });
});

describe('ports in use', { timeout: 90_000 }, () => {
  it('start --port: the service port, named as --port', async () => {
    const port = await busyPort();
    const run = await runMain(['start', '--port', String(port), '--simulator-port', '0'], {
      cwd: tempDir(cleanups),
      env: { DATABASE_URL: 'sqlite::memory:' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot listen on the service's port ${port}`);
    expect(run.stderr).toContain('choose another with --port.');
    expect(run.stderr).not.toMatch(STACK);
  });

  it('PORT from the environment, named as PORT (real CLI)', async () => {
    const port = await busyPort();
    const run = await runCli(['start', '--simulator-port', '0'], {
      cwd: tempDir(cleanups),
      env: { PORT: String(port), DATABASE_URL: 'sqlite::memory:' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot listen on the service's port ${port}`);
    expect(run.stderr).toContain('choose another with PORT (or --port).');
    expect(run.stderr).not.toMatch(STACK);
  });

  it('start --simulator-port: the simulator, named as --simulator-port', async () => {
    const port = await busyPort();
    const run = await runMain(['start', '--port', '0', '--simulator-port', String(port)], {
      cwd: tempDir(cleanups),
      env: { DATABASE_URL: 'sqlite::memory:' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot listen on the WeChat simulator's port ${port}`);
    expect(run.stderr).toContain('choose another with --simulator-port.');
  });

  it('serve --port', async () => {
    const port = await busyPort();
    const dir = tempDir(cleanups);
    const run = await runMain(['serve', '--port', String(port), '--host', '127.0.0.1'], {
      cwd: dir,
      env: { ...REAL, DATABASE_URL: `sqlite:${dir}/pay.db` },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot listen on the service's port ${port}`);
    expect(run.stderr).toContain('--port');
  });

  it("the simulator's own --port", async () => {
    const port = await busyPort();
    const run = await runMain(['simulate', '--port', String(port)], { cwd: tempDir(cleanups), env: REAL });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`weapp-pay simulate: Cannot listen on the simulator's port ${port}`);
    expect(run.stderr).toContain('choose another with --port.');
  });
});

describe('certificate files', { timeout: 90_000 }, () => {
  it('names WECHAT_MCH_CERT when its file is missing and WECHAT_MCH_CERT_KEY when it is unreadable', async () => {
    const dir = tempDir(cleanups);
    mkdirSync(join(dir, 'key-is-a-folder'));
    const run = await runMain(['serve', '--port', '0'], {
      cwd: dir,
      env: {
        ...REAL,
        DATABASE_URL: `sqlite:${dir}/pay.db`,
        WECHAT_MCH_CERT: './certs/apiclient_cert.pem',
        WECHAT_MCH_CERT_KEY: 'key-is-a-folder',
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `WECHAT_MCH_CERT=./certs/apiclient_cert.pem: the file does not exist (${dir}/certs/apiclient_cert.pem). Set WECHAT_MCH_CERT to the path of the merchant API certificate`,
    );
    expect(run.stderr).toContain('WECHAT_MCH_CERT_KEY=key-is-a-folder: the file is a folder');
  });

  it('refuses a certificate without its key, and a file that is not PEM', async () => {
    const dir = tempDir(cleanups);
    writeFileSync(join(dir, 'cert.pem'), 'hello');
    const run = await runMain(['serve'], {
      cwd: dir,
      env: { ...REAL, DATABASE_URL: `sqlite:${dir}/pay.db`, WECHAT_MCH_CERT: 'cert.pem' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('WECHAT_MCH_CERT is set but WECHAT_MCH_CERT_KEY is not');
    expect(run.stderr).toContain('WECHAT_MCH_CERT=cert.pem is not a PEM certificate');
  });
});
