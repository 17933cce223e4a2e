// A webhook receiver for the bench: answers every POST 200 at once and remembers, per event, the
// payment id it announced and when it was answered (ms since the epoch). On SIGTERM it writes
// those lines ("eventId paymentId ms") to BENCH_RECEIVER_OUT and exits. Plain node:http.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const lines = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let event = {};
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {}
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    lines.push(`${event.id} ${event.data?.object?.id} ${Date.now()}`);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}/hooks`));
process.on('SIGTERM', () => {
  writeFileSync(process.env.BENCH_RECEIVER_OUT, lines.join('\n'));
  process.exit(0);
});
