import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from '../config.js';
import { DEMO_CREDENTIALS_FILE } from './start.js';

/** Where `weapp-pay logs`, `trigger` and `orders` find the service unless WEAPP_PAY_URL says. */
export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:3000';
const TIMEOUT_MS = 15_000;

/** A refusal the command prints as it is: one line that names the fix. */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export interface ServiceTarget {
  url: string;
  token: string | undefined;
  /** Where the token came from, said once on stderr when it is not ADMIN_TOKEN. */
  tokenFrom: 'ADMIN_TOKEN' | typeof DEMO_CREDENTIALS_FILE | undefined;
}

/**
 * The service's URL and admin token: WEAPP_PAY_URL and ADMIN_TOKEN (the environment or ./.env),
 * or, for the demo `weapp-pay start` runs in this folder, the token it keeps in
 * ./data/demo-credentials.json.
 */
export function serviceTarget(env: Env, cwd: string): ServiceTarget {
  const url = (env.WEAPP_PAY_URL?.trim() || DEFAULT_SERVICE_URL).replace(/\/+$/, '');
  const token = env.ADMIN_TOKEN?.trim();
  if (token) return { url, token, tokenFrom: 'ADMIN_TOKEN' };
  try {
    const demo = JSON.parse(readFileSync(resolve(cwd, DEMO_CREDENTIALS_FILE), 'utf8')) as {
      adminToken?: unknown;
    };
    if (typeof demo.adminToken === 'string' && demo.adminToken !== '') {
      return { url, token: demo.adminToken, tokenFrom: DEMO_CREDENTIALS_FILE };
    }
  } catch {
    // No demo here: the token is simply missing, and the first admin call says so.
  }
  return { url, token: undefined, tokenFrom: undefined };
}

export interface CallOptions {
  body?: unknown;
  /** A user's session token instead of the admin token (trigger plays the mini program too). */
  bearer?: string;
  headers?: Record<string, string>;
}

export interface ServiceClient {
  readonly url: string;
  /** Admin routes: sends the admin token, and turns any answer but 2xx into a ServiceError. */
  admin<T>(method: string, path: string, options?: CallOptions): Promise<T>;
  /** Public and user routes. */
  call<T>(method: string, path: string, options?: CallOptions): Promise<T>;
}

export function createServiceClient(target: ServiceTarget): ServiceClient {
  async function send<T>(
    method: string,
    path: string,
    auth: { bearer: string | undefined; asAdmin: boolean },
    options: CallOptions,
  ) {
    const { bearer } = auth;
    let res: Response;
    try {
      res = await fetch(`${target.url}${path}`, {
        method,
        headers: {
          ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }),
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new ServiceError(
        `no weapp-pay service answers at ${target.url} (${causeOf(err)}): start it (weapp-pay start, or serve) or set WEAPP_PAY_URL`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ServiceError(
        `${target.url} answered ${method} ${path} with HTTP ${res.status} and no JSON: is WEAPP_PAY_URL a weapp-pay service?`,
        res.status,
      );
    }
    if (res.ok) return body as T;
    const { code, message } = (body ?? {}) as { code?: string; message?: string };
    throw new ServiceError(refusal(method, path, res.status, code, message, auth.asAdmin), res.status, code);
  }

  function refusal(
    method: string,
    path: string,
    status: number,
    code: string | undefined,
    message: string | undefined,
    asAdmin: boolean,
  ): string {
    if (asAdmin && status === 401) {
      return `the service at ${target.url} refused the admin token (${message ?? 'HTTP 401'}): set ADMIN_TOKEN to the service's ADMIN_TOKEN`;
    }
    if (status === 404 && code === 'NOT_FOUND') {
      return `the service at ${target.url} has no ${method} ${path.split('?')[0]}: it is older than this command; upgrade it`;
    }
    return `${method} ${path.split('?')[0]} answered ${status}${code ? ` ${code}` : ''}: ${message ?? 'no message'}`;
  }

  return {
    url: target.url,
    admin(method, path, options = {}) {
      if (target.token === undefined) {
        throw new ServiceError(
          `ADMIN_TOKEN is not set: set it (in the environment or ./.env) to the ADMIN_TOKEN of the service at ${target.url}`,
        );
      }
      return send(method, path, { bearer: target.token, asAdmin: true }, options);
    },
    call(method, path, options = {}) {
      return send(method, path, { bearer: options.bearer, asAdmin: false }, options);
    },
  };
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((err as Error).name === 'TimeoutError') return `no answer in ${TIMEOUT_MS / 1000} s`;
  return cause?.message ?? (err as Error).message;
}
