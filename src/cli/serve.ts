import type { Env } from './index.js';

// Placeholder until the 'serve' command lands (see the open issues).
export async function runServe(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write('weapp-pay serve: not available in this build yet\n');
  return 1;
}
