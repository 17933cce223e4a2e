import { existsSync } from 'node:fs';
import { AUDIT_CHECKS, AuditSchemaError, formatReport, runAudit } from '../audit/index.js';
import { DEFAULTS } from '../config.js';
import { openDatabase } from '../db/open.js';
import type { CommandSpec } from './command.js';
import { sqlitePathOf } from './sqlite-file.js';
import { startupFailure } from './startup-errors.js';

/**
 * Checks the money rules against DATABASE_URL, reading only: exit 0 when every check passes, 1
 * on any finding (or a check that could not run). Never migrates: an audit changes nothing.
 */
export const auditCommand: CommandSpec = {
  name: 'audit',
  summary: 'check the money rules against the database (read only); exits 1 on any finding',
  options: [{ flags: '--json', about: 'print the report as JSON for scripts, e.g. --json | jq .ok' }],
  env: ['DATABASE_URL', 'LOG_LEVEL'],
  examples: ['weapp-pay audit', 'weapp-pay audit --json --env-file /etc/weapp-pay.env'],
  readsSettings: true,
  async run(_args, options, { env, io, cwd }) {
    const url = env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl;
    const file = sqlitePathOf(url, cwd);
    if (file && !existsSync(file)) {
      // Opening would create an empty file: say there is nothing to audit instead.
      io.err(`weapp-pay audit: there is no database at ${file}: check DATABASE_URL (or --env-file)\n`);
      return 1;
    }
    try {
      const database = await openDatabase(file ? `sqlite:${file}` : url);
      try {
        const report = await runAudit(database.db, AUDIT_CHECKS);
        io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return report.ok ? 0 : 1;
      } finally {
        await database.close();
      }
    } catch (err) {
      if (err instanceof AuditSchemaError) {
        io.err(`weapp-pay audit: ${err.message}\n`);
        return 1;
      }
      io.err(startupFailure(err, { databaseUrl: url }, env.LOG_LEVEL?.trim()));
      return 1;
    }
  },
};
