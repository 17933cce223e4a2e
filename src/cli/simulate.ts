import type { Env } from './index.js';

// Placeholder until the 'simulate' command lands (see the open issues).
export async function runSimulate(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write('weapp-pay simulate: not available in this build yet\n');
  return 1;
}
