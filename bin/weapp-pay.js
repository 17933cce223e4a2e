#!/usr/bin/env node
// The published entry point runs the compiled CLI; `npm run build` (run by `npm start` and
// `npm test`) produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('weapp-pay is not built yet: run `npm run build` (or `npm start`, which builds first).');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), process.env);
