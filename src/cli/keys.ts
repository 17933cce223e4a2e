import { existsSync } from 'node:fs';
import { type ApiKey, type ApiKeys, createApiKeys } from '../api-keys/api-keys.js';
import { systemClock } from '../clock.js';
import { DEFAULTS } from '../config.js';
import { migrateToLatest } from '../db/migrations.js';
import { openDatabase } from '../db/open.js';
import { AppError } from '../errors.js';
import type { CommandContext, CommandGroup, CommandSpec, Options } from './command.js';
import { sqlitePathOf } from './sqlite-file.js';
import { startupFailure } from './startup-errors.js';

/**
 * Runs `act` on DATABASE_URL's API keys, migrations applied first (as `start` does; safe while
 * the service runs). A SQLite file that does not exist is refused unless `create` may make it.
 */
async function withApiKeys(
  context: CommandContext,
  command: string,
  options: { mayCreate: boolean },
  act: (keys: ApiKeys) => Promise<number>,
): Promise<number> {
  const { env, io, cwd } = context;
  const url = env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl;
  const file = sqlitePathOf(url, cwd);
  if (file && !options.mayCreate && !existsSync(file)) {
    io.err(
      `weapp-pay keys ${command}: there is no database at ${file}: check DATABASE_URL (or --env-file)\n`,
    );
    return 1;
  }
  try {
    const database = await openDatabase(file ? `sqlite:${file}` : url);
    try {
      await migrateToLatest(database);
      return await act(createApiKeys({ db: database.db, clock: systemClock }));
    } finally {
      await database.close();
    }
  } catch (err) {
    if (err instanceof AppError) {
      io.err(`weapp-pay keys ${command}: ${err.message}\n`);
      return 1;
    }
    io.err(startupFailure(err, { databaseUrl: url }, env.LOG_LEVEL?.trim()));
    return 1;
  }
}

const when = (ms: number | null, none: string) =>
  ms === null ? none : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The listing as a table a person reads; `--json` gives scripts the same rows. */
export function formatKeys(keys: readonly ApiKey[]): string {
  if (keys.length === 0) return 'No API keys yet. Create one with: weapp-pay keys create --name NAME\n';
  const rows = keys.map((k) => [
    k.id,
    k.name,
    `wpk_…${k.lastFour}`,
    when(k.createdAt, ''),
    when(k.lastUsedAt, 'never'),
    when(k.revokedAt, '-'),
  ]);
  const head = ['ID', 'NAME', 'KEY', 'CREATED', 'LAST USED', 'REVOKED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return [head, ...rows].map(line).join('');
}

const DB_ENV = ['DATABASE_URL', 'LOG_LEVEL'] as const;

const createKey: CommandSpec = {
  name: 'create',
  summary: 'create a /v1 API key and print it once (only its hash is kept)',
  options: [
    { flags: '--name <name>', about: 'what the key is for, 1 to 64 characters, e.g. --name shop-backend' },
  ],
  env: DB_ENV,
  examples: [
    'weapp-pay keys create --name shop-backend',
    'WEAPP_PAY_KEY=$(weapp-pay keys create --name staging --env-file /etc/weapp-pay.env)',
  ],
  readsSettings: true,
  run: (_args, options: Options, context) => {
    if (typeof options.name !== 'string') {
      context.io.err('weapp-pay keys create: --name is required, e.g. --name shop-backend\n');
      return Promise.resolve(1);
    }
    const name = options.name;
    return withApiKeys(context, 'create', { mayCreate: true }, async (keys) => {
      const { key, apiKey } = await keys.create(name);
      context.io.err(
        `Created API key ${apiKey.id} (${apiKey.name}). It is printed below once and not kept: store it now.\n` +
          'Use it as: Authorization: Bearer <key>\n',
      );
      context.io.out(`${key}\n`);
      return 0;
    });
  },
};

const listKeys: CommandSpec = {
  name: 'list',
  summary: 'list the API keys: id, name, last four, created, last used, revoked',
  options: [{ flags: '--json', about: 'print the keys as JSON for scripts, e.g. --json | jq .[].id' }],
  env: DB_ENV,
  examples: ['weapp-pay keys list', 'weapp-pay keys list --json'],
  readsSettings: true,
  run: (_args, options, context) =>
    withApiKeys(context, 'list', { mayCreate: false }, async (keys) => {
      const all = await keys.list();
      context.io.out(options.json ? `${JSON.stringify(all, null, 2)}\n` : formatKeys(all));
      return 0;
    }),
};

const revokeKey: CommandSpec = {
  name: 'revoke',
  summary: 'revoke an API key for good: its requests are refused with 401 at once',
  args: [{ syntax: '<id>', about: 'the key id from `weapp-pay keys list`, e.g. key_3Jx9aB2c7QpL' }],
  options: [],
  env: DB_ENV,
  examples: ['weapp-pay keys revoke key_3Jx9aB2c7QpL'],
  readsSettings: true,
  run: ([id], _options, context) =>
    withApiKeys(context, 'revoke', { mayCreate: false }, async (keys) => {
      const revoked = await keys.revoke(id ?? '');
      context.io.out(`Revoked ${revoked.id} (${revoked.name}) at ${when(revoked.revokedAt, '')}.\n`);
      return 0;
    }),
};

/** `weapp-pay keys create|list|revoke`: the /v1 API keys, on the configured database directly. */
export const keysCommand: CommandGroup = {
  name: 'keys',
  summary: 'create, list and revoke API keys for the /v1 server API',
  subcommands: [createKey, listKeys, revokeKey],
  examples: [
    'weapp-pay keys create --name shop-backend',
    'weapp-pay keys list --json',
    'weapp-pay keys revoke key_3Jx9aB2c7QpL',
  ],
};
