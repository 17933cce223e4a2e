/**
 * The demo serves web/ at /. A request that tries to climb out of that folder, in any spelling,
 * gets the same quiet 404 as a missing file: no bytes of the target, no error in the log.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, startDemo } from '../../src/demo/start-demo.js';
import { createLogger } from '../../src/observability/logger.js';

const ATTEMPTS = [
  '/..%2f..%2fetc/passwd',
  '/%2e%2e/package.json',
  '/%2e%2e%2fpackage.json',
  '/..%2fpackage.json',
  '/..%5cpackage.json',
  '/%2e%2e%5cpackage.json',
  '/.%2e/.%2e/package.json',
  '/..%252fpackage.json',
  '/%00',
  '/app.js%00.html',
  '/.git/config',
  '/%2fetc%2fpasswd',
];

describe('static files of the demo', () => {
  let demo: Demo;
  const logs: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    demo = await startDemo({
      port: 0,
      simulatorPort: 0,
      databaseUrl: 'sqlite::memory:',
      log: createLogger('debug', sink),
    });
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('answers every path-traversal spelling with a quiet 404 that leaks nothing', async () => {
    for (const path of ATTEMPTS) {
      const res = await fetch(`${demo.serviceUrl}${path}`);
      const text = await res.text();
      expect(res.status, path).toBe(404);
      expect(JSON.parse(text), path).toEqual({ code: 'NOT_FOUND', message: 'No such route.' });
      expect(text).not.toContain('weapp-pay');
      expect(text).not.toContain('root:');
    }
    const errors = logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });

  it('still serves the page and its files', async () => {
    const index = await fetch(`${demo.serviceUrl}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>weapp-pay demo</title>');
    const script = await fetch(`${demo.serviceUrl}/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
  });
});
