import type { Env } from './index.js';

// Placeholder until the 'start' command lands (see the open issues).
export async function runStart(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write('weapp-pay start: not available in this build yet\n');
  return 1;
}
