import type { Env } from './index.js';

// Placeholder until the 'migrate' command lands (see the open issues).
export async function runMigrate(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write('weapp-pay migrate: not available in this build yet\n');
  return 1;
}
