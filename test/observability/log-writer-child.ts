/**
 * A child process that logs through the service's logger and destination, for
 * log-destination.test.ts. Arguments: how many lines, the destination's buffer limit in bytes, and
 * how to end: `exit` calls process.exit(0) straight after the last line; `stdin` waits until the
 * parent closes standard input. "logged N" goes to standard error once the loop has returned.
 */
import { createLogger, logDestination } from '../../src/observability/logger.js';

const [count = '0', maxBufferedBytes = '0', ending = 'exit'] = process.argv.slice(2);
const log = createLogger('info', logDestination({ sync: false, maxBufferedBytes: Number(maxBufferedBytes) }));
const padding = 'x'.repeat(120);
for (let i = 0; i < Number(count); i++) log.info({ i, padding }, 'line');
process.stderr.write(`logged ${count}\n`);
if (ending === 'exit') process.exit(0);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
