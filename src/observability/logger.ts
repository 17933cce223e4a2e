import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * pino with redactions: secrets, tokens and Authorization
 * headers are replaced, never logged. Openids are not secrets but are personal data, so
 * code logs them through {@link maskOpenid}.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.key',
  '*.mchKey',
  // API v3: the APIv3 key and the merchant private key (config.wechat.v3, client options).
  '*.apiV3Key',
  '*.merchantPrivateKey',
  '*.privateKey',
  'wechat.v3.apiV3Key',
  'wechat.v3.merchantPrivateKey',
  '*.sessionKey',
  '*.session_key',
  '*.adminToken',
  '*.password',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Request URLs never carry tokens (they travel in headers); query strings are kept short.
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: req.url }),
      },
    },
    destination,
  );
  return redactingObjectsOnly(logger, REDACTED_PATHS);
}

/** How much log output may wait in memory for a reader that has stopped reading (16 MiB). */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

export interface LogDestinationOptions {
  /** LOG_SYNC: write each line before the code that logged it goes on. */
  sync: boolean;
  /** Asynchronous only: beyond this many bytes waiting, lines are dropped and counted. */
  maxBufferedBytes?: number;
}

/**
 * The service's standard output, for pino.
 *
 * By default lines are written asynchronously (pino's `sync: false` destination): a line is
 * handed to the operating system by a write in libuv's thread pool, and the lines logged while
 * that write is in flight go out together in the next one. A synchronous write makes the event
 * loop wait for whoever reads standard output (journald, a container runtime, a pipe): once a
 * reader that stopped reading lets the pipe fill, every request waits with it, payments
 * included (docs/performance.md, eighth pass).
 *
 * The price: lines still waiting when the process is killed outright (SIGKILL, the OOM killer,
 * a power cut) are lost. On any exit Node runs, including an uncaught exception and after
 * SIGTERM's shutdown, pino writes what waits before the process ends. The database, not the
 * log, is the record of every payment. `LOG_SYNC=true` writes each line before going on.
 *
 * If the reader stops, at most `maxBufferedBytes` wait; later lines are dropped and counted, and
 * once the reader catches up a warning line says how many were lost.
 *
 * @example
 * const log = createLogger(config.logLevel, logDestination({ sync: config.logSync }));
 */
export function logDestination(options: LogDestinationOptions): DestinationStream {
  if (options.sync) return pino.destination({ dest: 1, sync: true });
  const maxLength = options.maxBufferedBytes ?? LOG_BUFFER_MAX_BYTES;
  const stream = pino.destination({ dest: 1, sync: false, maxLength });
  let dropped = 0;
  let reporting = false;
  stream.on('drop', () => {
    dropped += 1;
  });
  // After each completed write: once the backlog is below half the limit, say what was lost.
  stream.on('write', () => {
    if (dropped === 0 || reporting) return;
    reporting = true;
    setImmediate(() => {
      reporting = false;
      if (dropped === 0 || writableLength(stream) > maxLength / 2) return;
      const lost = dropped;
      dropped = 0;
      stream.write(
        `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, dropped: lost, msg: 'log lines dropped: standard output was not being read' })}\n`,
      );
    });
  });
  return stream;
}

/** Bytes waiting in a sonic-boom destination (its internal length; 0 if unknown). */
function writableLength(stream: object): number {
  const length = (stream as { _len?: unknown })._len;
  return typeof length === 'number' ? length : 0;
}

type Stringifier = (value: unknown, ...rest: unknown[]) => string | undefined;

/**
 * With wildcard paths (`*.token`) pino runs every value of every line, and every child's
 * bindings, through the redactor, and the redactor as pino calls it parses each path again even
 * for a string or a number: 13 µs per line of six short fields, against 0.5 µs without redaction
 * (docs/performance.md, seventh pass). A value that is not an object has no property to redact,
 * so it is written as pino writes it without redaction; objects still go through the redactor.
 * A top-level path (`password`, no dot) censors the value itself whatever its type, so its
 * stringifier is left alone.
 */
export function redactingObjectsOnly(logger: Logger, paths: readonly string[]): Logger {
  const { stringifiersSym, stringifySym } = pino.symbols;
  const holder = logger as unknown as Record<symbol, unknown>;
  const stringifiers = holder[stringifiersSym] as Record<string | symbol, Stringifier>;
  const stringify = holder[stringifySym] as Stringifier;
  const wholeValue = new Set(paths.filter((p) => !/[.[]/.test(p)));
  for (const key of [...Object.keys(stringifiers), ...Object.getOwnPropertySymbols(stringifiers)]) {
    const redact = stringifiers[key];
    if (typeof redact !== 'function' || (typeof key === 'string' && wholeValue.has(key))) continue;
    stringifiers[key] = (value, ...rest) =>
      typeof value === 'object' && value !== null ? redact(value, ...rest) : stringify(value, ...rest);
  }
  return logger;
}

/**
 * Keeps enough of an openid to correlate log lines, and no more.
 *
 * @example
 * maskOpenid('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o') // 'oUpF…eS6o'
 */
export function maskOpenid(openid: string | null | undefined): string {
  if (!openid) return '';
  if (openid.length <= 8) return '****';
  return `${openid.slice(0, 4)}…${openid.slice(-4)}`;
}
