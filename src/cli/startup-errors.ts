import { redactUrl } from '../db/open.js';

/** A listening socket the command opens, and the setting that chooses its port. */
export interface Listener {
  what: string;
  port: number;
  /** How a user changes it, e.g. "--port or PORT". */
  setting: string;
}

export interface StartupContext {
  databaseUrl?: string;
  listeners?: Listener[];
}

/** A problem found before anything started, already phrased for the user (a missing file, say). */
export class StartupProblem extends Error {
  readonly code = 'STARTUP_PROBLEM';
}

type ErrorLike = Error & { code?: string; port?: number; address?: string };

/**
 * Turns what went wrong while starting into one paragraph that names the setting to change.
 * The stack is for LOG_LEVEL=debug; a user who typed a wrong password needs to hear that, not
 * where pg-pool noticed it.
 *
 * @example
 * explainStartupError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
 *   { databaseUrl: 'postgres://app@127.0.0.1:5432/pay' });
 * // 'PostgreSQL refused the connection at 127.0.0.1:5432 …'
 */
export function explainStartupError(error: unknown, context: StartupContext): string {
  const outer = (error instanceof Error ? error : new Error(String(error))) as ErrorLike;
  if (outer instanceof StartupProblem) return outer.message;
  // A failed migration wraps the driver's error; the driver's code is what tells the story.
  const cause = outer.cause as ErrorLike | undefined;
  const err = !outer.code && cause instanceof Error && cause.code ? cause : outer;
  if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
    const listener = context.listeners?.find((l) => l.port === err.port);
    if (listener || err.port !== undefined) return portProblem(err, listener);
  }
  const url = context.databaseUrl ?? '';
  if (/^postgres(ql)?:\/\//.test(url)) {
    const explained = postgresProblem(err, url);
    if (explained) return explained;
  }
  if (url.startsWith('sqlite:')) {
    const explained = sqliteProblem(err, url);
    if (explained) return explained;
  }
  return `could not start: ${err.message}. Run with LOG_LEVEL=debug to see where it failed.`;
}

function portProblem(err: ErrorLike, listener: Listener | undefined): string {
  const what = listener ? `the ${listener.what}'s port ${err.port}` : `port ${err.port}`;
  const change = listener ? `choose another with ${listener.setting}` : 'choose another port';
  if (err.code === 'EACCES') {
    return `Not allowed to listen on ${what} (ports below 1024 need privileges). ${capitalise(change)}.`;
  }
  return `Cannot listen on ${what}${err.address ? ` at ${err.address}` : ''}: another program is already using it (perhaps another weapp-pay). Stop that program, or ${change}.`;
}

function postgresProblem(err: ErrorLike, url: string): string | undefined {
  const shown = `DATABASE_URL=${redactUrl(url)}`;
  const target = hostOf(url);
  const message = err.message ?? '';
  if (/no encryption/i.test(message) || /SSL.*(required|only)/i.test(message)) {
    return `PostgreSQL at ${target} accepts only encrypted (TLS) connections (${shown}). Add ?sslmode=require to DATABASE_URL (or sslmode=verify-full with sslrootcert=… to check its certificate).`;
  }
  if (/does not support SSL/i.test(message)) {
    return `DATABASE_URL asks for TLS (sslmode), but PostgreSQL at ${target} does not offer it (${shown}). Remove sslmode from DATABASE_URL, or enable ssl on the server.`;
  }
  if (/certificate|self[- ]signed/i.test(message) || /CERT|SELF_SIGNED/.test(err.code ?? '')) {
    return `PostgreSQL at ${target}'s TLS certificate is not trusted: ${message} (${shown}). Give its CA with sslrootcert=/path/ca.pem in DATABASE_URL.`;
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return `PostgreSQL refused the connection at ${target} (${shown}): nothing listens there. Start PostgreSQL, or correct the host and port in DATABASE_URL.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The database host in DATABASE_URL was not found (${shown}): "${target.replace(/:\d+$/, '')}" does not resolve. Correct the host name in DATABASE_URL.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `PostgreSQL at ${target} could not be reached (${err.code}; ${shown}). Check the host in DATABASE_URL and any firewall between here and there.`;
    case '3D000':
      return `PostgreSQL at ${target} has no database ${quoted(message)} (${shown}). Create it (createdb ${dbOf(url)}) or correct the database name at the end of DATABASE_URL.`;
    case '28000':
      if (/role .* does not exist/i.test(message)) {
        return `PostgreSQL at ${target} has no role ${quoted(message)} (${shown}). Create it (CREATE ROLE … LOGIN PASSWORD …) or correct the user name in DATABASE_URL.`;
      }
      return `PostgreSQL at ${target} refused this user: ${message} (${shown}). Allow it in pg_hba.conf, or use another user in DATABASE_URL.`;
    case '28P01':
      return `PostgreSQL at ${target} rejected the password for this user (${shown}). Correct the password in DATABASE_URL (percent-encode characters such as @ or /).`;
    case '42501':
      return `The user in DATABASE_URL lacks a privilege weapp-pay needs: ${message} (${shown}). Grant it CREATE on the database (migrations create tables), or use the owner.`;
    case '53300':
      return `PostgreSQL at ${target} has no free connection slots (${shown}). Raise max_connections, or stop idle clients.`;
  }
  if (/timeout/i.test(message)) {
    return `PostgreSQL at ${target} did not answer in time (${shown}). Check that the host and port in DATABASE_URL are right and the server is up.`;
  }
  return undefined;
}

function sqliteProblem(err: ErrorLike, url: string): string | undefined {
  const path = url.slice('sqlite:'.length);
  const codes = [
    'EACCES',
    'EPERM',
    'EROFS',
    'ENOTDIR',
    'EEXIST',
    'ENOENT',
    'SQLITE_CANTOPEN',
    'SQLITE_READONLY',
    'SQLITE_PERM',
    'SQLITE_IOERR_WRITE',
  ];
  if (!codes.some((c) => err.code?.startsWith(c))) return undefined;
  return `The SQLite database ${path} cannot be created or written (${err.code}: ${err.message}). Point DATABASE_URL at a writable file, e.g. DATABASE_URL=sqlite:./data/weapp-pay.db, or fix the folder's permissions.`;
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the configured host';
  }
}

function dbOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || 'weapp';
  } catch {
    return 'weapp';
  }
}

function quoted(message: string): string {
  return /"([^"]+)"/.exec(message)?.[0] ?? '';
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The paragraph, plus the stack when the user asked for debug logs. */
export function startupFailure(
  error: unknown,
  context: StartupContext,
  logLevel: string | undefined,
): string {
  const text = explainStartupError(error, context);
  const debug = logLevel === 'debug' || logLevel === 'trace';
  const stack =
    debug && error instanceof Error && !(error instanceof StartupProblem) ? `\n${error.stack}` : '';
  return `weapp-pay: ${text}${stack}\n`;
}
