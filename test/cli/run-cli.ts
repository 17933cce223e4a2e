// The CLI as bin/weapp-pay.js runs it, but from the TypeScript sources (tests spawn it with
// `node --import tsx`), so a child-process test needs no build.
import { main } from '../../src/cli/index.js';

process.exitCode = await main(process.argv.slice(2), process.env);
