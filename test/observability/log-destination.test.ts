/**
 * The service writes its log asynchronously (src/observability/logger.ts, logDestination). These
 * run a real child process whose standard output is a pipe, because what matters is what a pipe
 * reader (journald, a container runtime) receives: every line when the process exits on its own,
 * and when the reader stops reading, a bounded backlog and an honest count of what was dropped.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childScript } from '../db/child-script.js';

const CHILD = fileURLToPath(new URL('./log-writer-child.ts', import.meta.url));

interface Line {
  msg: string;
  i?: number;
  dropped?: number;
  level: number;
}

function parse(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

describe('the asynchronous log destination', () => {
  it('writes every line, in order, when the process exits straight after logging them', async () => {
    const child = spawn(
      process.execPath,
      [await childScript(CHILD), '20000', String(64 * 1024 * 1024), 'exit'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const lines = parse(stdout);
    expect(lines).toHaveLength(20_000);
    expect(lines.every((l, n) => l.i === n)).toBe(true);
  }, 60_000);

  it('keeps at most its limit for a reader that stopped, then says how many lines it dropped', async () => {
    const total = 5000;
    const child = spawn(
      process.execPath,
      [await childScript(CHILD), String(total), String(64 * 1024), 'stdin'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    try {
      await stalledThenRead(child, total);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

async function stalledThenRead(child: ChildProcessWithoutNullStreams, total: number): Promise<void> {
  // Nothing reads standard output until the child says its loop returned: had a write blocked
  // on the full pipe, "logged" would never come.
  const logged = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child blocked on its log')), 30_000);
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (c.includes('logged')) {
        clearTimeout(timer);
        resolve(c);
      }
    });
  });
  expect(logged).toContain(`logged ${total}`);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  // Let the backlog drain and the notice follow it, then end the child.
  await waitFor(() => stdout.includes('"dropped"'), 20_000);
  child.stdin.end();
  expect(await new Promise((resolve) => child.once('close', resolve))).toBe(0);

  const lines = parse(stdout);
  const kept = lines.filter((l) => l.msg === 'line');
  const notices = lines.filter((l) => l.dropped !== undefined);
  const dropped = notices.reduce((sum, l) => sum + (l.dropped ?? 0), 0);
  expect(dropped).toBeGreaterThan(0);
  expect(kept.length + dropped).toBe(total);
  expect(notices.every((l) => l.level === 40 && /not being read/.test(l.msg))).toBe(true);
  // What was kept is the start of the run, in order: lines are dropped, never reordered.
  expect(kept.every((l, n) => l.i === n)).toBe(true);
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
