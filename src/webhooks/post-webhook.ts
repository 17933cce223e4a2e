import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { exchange } from '../http/undici-exchange.js';
import { DEFAULT_DELIVERER_SETTINGS } from './deliverer.js';

/** What the receiver answered, or why there was no answer. */
export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  /** The first 1 KB of the answer, as text. */
  responseBody: string | null;
  error: string | null;
}

export type PostWebhook = (request: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}) => Promise<PostResult>;

export const RESPONSE_KEPT_BYTES = 1024;

/**
 * One keep-alive pool for every webhook POST of this process. undici rather than the global
 * `fetch`: fetch's WHATWG streams, Request/Response objects and per-call AbortSignal plumbing
 * were the largest part of a delivery's CPU in the benchmark's profile (docs/performance.md).
 * Idle sockets do not keep the process alive. As many connections per receiver as the deliverer
 * has slots: each POST gets a socket of its own, so no POST spends part of its timeout queued
 * behind another one to a slow receiver.
 */
let pool: Agent | undefined;
const agent = () =>
  (pool ??= new Agent({ keepAliveTimeout: 10_000, connections: DEFAULT_DELIVERER_SETTINGS.maxConcurrent }));

/**
 * One webhook POST. Success is a 2xx whose status arrives within `timeoutMs`; a redirect, any
 * other status, a timeout or a network error is a failure (never thrown) with what happened.
 * Redirects are not followed: the endpoint's URL is the one the shop registered.
 *
 * One {@link exchange} (undici's dispatch API, one deadline). The first
 * {@link RESPONSE_KEPT_BYTES} of the answer are kept for the operator, read within what is left
 * of the time limit; a longer answer is cut there.
 */
export const postWebhook: PostWebhook = async ({ url, body, headers, timeoutMs }) => {
  const started = performance.now();
  let target: URL;
  try {
    target = new URL(url);
  } catch (err) {
    return failure(started, (err as Error).message);
  }
  let statusCode: number | null = null;
  let latencyMs = 0;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const answered = (complete: boolean): PostResult => {
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    return {
      ok,
      statusCode,
      latencyMs,
      // An answer cut short by the time limit keeps no body, as a failed read never did.
      responseBody: complete ? Buffer.concat(kept).subarray(0, RESPONSE_KEPT_BYTES).toString('utf8') : null,
      error: ok ? null : `HTTP ${statusCode}`,
    };
  };
  return exchange<PostResult>(
    agent(),
    { origin: target.origin, path: `${target.pathname}${target.search}`, method: 'POST', body, headers },
    timeoutMs,
    {
      onHeaders(status) {
        statusCode = status;
        latencyMs = performance.now() - started;
      },
      onData(chunk) {
        kept.push(chunk);
        keptBytes += chunk.length;
        // Enough to show the operator: the rest is not waited for (nor is the socket reused).
        return keptBytes < RESPONSE_KEPT_BYTES ? undefined : answered(true);
      },
      onEnd: () => answered(true),
      onError(err) {
        if (statusCode !== null) return answered(false);
        const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
        return failure(started, e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? 'request failed');
      },
      onTimeout: () =>
        statusCode !== null ? answered(false) : failure(started, `no answer within ${timeoutMs / 1000} s`),
    },
  );
};

function failure(started: number, error: string): PostResult {
  return { ok: false, statusCode: null, latencyMs: performance.now() - started, responseBody: null, error };
}
