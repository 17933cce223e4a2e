// The CLI as bin/weapp-pay.js runs it, but from the TypeScript sources (the tests bundle this
// file with esbuild), so a child-process test needs no `npm run build`.
import { main } from '../../src/cli/index.js';

process.exitCode = await main(process.argv.slice(2), process.env);
