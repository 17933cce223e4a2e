/**
 * A log reader that stops reading (journald stalled, a container runtime's pipe not drained) must
 * not stop payments. `weapp-pay serve` in a child process, at LOG_LEVEL=info so every request
 * writes a line; its standard output is then left unread while far more lines than a pipe holds
 * are logged. Every request is still answered, and once the reader reads again every line
 * arrives, because the backlog stayed under the destination's limit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './cli-harness.js';
import { type Child, startServeAlone } from './service-children.js';

const cleanups: (() => void)[] = [];
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) await c.stop();
  for (const c of cleanups.splice(0)) c();
});

describe('the service with a stalled log reader', { timeout: 120_000 }, () => {
  it('answers every request while its standard output is not read, and loses no line', async () => {
    const { child, port } = await startServeAlone(tempDir(cleanups), { LOG_LEVEL: 'info' });
    children.push(child);
    child.pauseOutput();

    // Each refused look-up writes one access line of about 250 bytes: 3,000 of them (about
    // 750 KB) are several times what the pipe (64 KiB on Linux) and the reader's stream buffer
    // hold together.
    const requests = 3000;
    const before = child.output().length;
    let answered = 0;
    const started = Date.now();
    for (let i = 0; i < requests; i += 50) {
      const batch = Array.from({ length: 50 }, (_, k) =>
        fetch(`http://127.0.0.1:${port}/api/orders/stalled-${i + k}`, {
          signal: AbortSignal.timeout(10_000),
        }),
      );
      for (const res of await Promise.all(batch)) {
        expect(res.status).toBe(401);
        await res.arrayBuffer();
        answered += 1;
      }
    }
    expect(answered).toBe(requests);
    expect(Date.now() - started).toBeLessThan(60_000);

    child.resumeOutput();
    const accessLines = () =>
      child
        .output()
        .slice(before)
        .split('\n')
        .filter((l) => l.includes('"path":"/api/orders/stalled-')).length;
    const deadline = Date.now() + 20_000;
    while (accessLines() < requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(accessLines()).toBe(requests);
    expect(child.output()).not.toContain('"dropped"');
  });
});
