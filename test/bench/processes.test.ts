/**
 * The bench's process plumbing for diagnostics: node flags NODE_OPTIONS refuses reach the
 * service's command line, and what a server prints after it listens (where `--trace-gc` writes)
 * can be kept in a file instead of being read and dropped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceNodeArgs, startListening } from '../../bench/processes.js';

describe('bench processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-processes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits BENCH_SERVICE_NODE_ARGS into node flags and their values', () => {
    expect(serviceNodeArgs(undefined)).toEqual([]);
    expect(serviceNodeArgs('   ')).toEqual([]);
    expect(serviceNodeArgs(' --trace-gc  --cpu-prof-interval 250 ')).toEqual([
      '--trace-gc',
      '--cpu-prof-interval',
      '250',
    ]);
  });

  it('keeps what a server prints after it listens in the stdout file, with the flags it was given', async () => {
    const file = join(dir, 'stdout.txt');
    // A stand-in server: announces its URL, then prints a line a second later, as V8's GC trace would.
    const script = [
      "process.stdout.write('listening on http://127.0.0.1:9\\n');",
      "setTimeout(() => process.stdout.write('after listening: ' + process.execArgv.join(' ') + '\\n'), 50);",
      "process.on('SIGTERM', () => process.exit(0));",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const server = await startListening(
      [...serviceNodeArgs('--stack-trace-limit=7'), '-e', script],
      { PATH: process.env.PATH },
      /listening on (http:\/\/\S+)/,
      file,
    );
    try {
      await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 5_000 }).toContain('after listening:');
      expect(readFileSync(file, 'utf8')).toContain('--stack-trace-limit=7');
    } finally {
      await server.stop();
    }
  });
});
