import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, redactingObjectsOnly } from './logger.js';

/** A sink and the lines written to it, as text. */
function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { stream, lines };
}

const withoutTime = (line: string) => {
  const { time: _t, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return rest;
};

describe('the service logger', () => {
  it('censors secrets inside objects, in lines and in child bindings', () => {
    const { stream, lines } = sink();
    const log = createLogger('info', stream);
    log
      .child({ client: { secret: 'bound-secret', id: 'c1' } })
      .info(
        { client: { token: 'tok-secret', name: 'kept' }, wechat: { v3: { apiV3Key: 'Bearer abc' } } },
        'call',
      );
    const text = lines.join('');
    for (const secret of ['bound-secret', 'tok-secret', 'Bearer abc']) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      client: { token: '[redacted]', name: 'kept' },
      wechat: { v3: { apiV3Key: '[redacted]' } },
    });
  });

  it('writes strings, numbers, booleans and bigints exactly as pino does without redaction', () => {
    const ours = sink();
    const plain = sink();
    const line = {
      path: '/payment/wxnotify?x="quoted"\n\u2028',
      status: 200,
      ms: 3.25,
      ok: true,
      nan: Number.NaN,
      big: 12345678901234567890n,
      none: null,
    };
    createLogger('info', ours.stream).child({ reqId: 'req-1' }).info(line, 'request');
    pino({ level: 'info' }, plain.stream).child({ reqId: 'req-1' }).info(line, 'request');
    expect(withoutTime(ours.lines[0]!)).toEqual(withoutTime(plain.lines[0]!));
  });

  it('skips the redactor for values that are not objects, and only for those', () => {
    const { stream } = sink();
    const log = pino({ level: 'info', redact: { paths: ['*.token'], censor: '[redacted]' } }, stream);
    const stringifiers = (log as unknown as Record<symbol, Record<symbol, (v: unknown) => string>>)[
      pino.symbols.stringifiersSym
    ]!;
    const wildcard = pino.symbols.wildcardFirstSym as unknown as symbol;
    const redact = stringifiers[wildcard]!;
    const seen: unknown[] = [];
    stringifiers[wildcard] = (value: unknown) => {
      seen.push(value);
      return redact(value);
    };
    redactingObjectsOnly(log, ['*.token']);
    log.child({ reqId: 'req-2' }).info({ status: 200, path: '/x', client: { token: 't' } }, 'line');
    expect(seen).toEqual([{ token: 't' }]);
  });

  it('still censors a top-level path whatever its value', () => {
    const { stream, lines } = sink();
    const log = redactingObjectsOnly(
      pino({ level: 'info', redact: { paths: ['password', '*.token'], censor: '[redacted]' } }, stream),
      ['password', '*.token'],
    );
    log.info({ password: 'hunter2', other: { token: 'x' } }, 'login');
    expect(JSON.parse(lines[0]!)).toMatchObject({ password: '[redacted]', other: { token: '[redacted]' } });
  });
});
