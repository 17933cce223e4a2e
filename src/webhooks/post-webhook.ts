import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';

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
 * One keep-alive pool for every webhook POST of this process. undici's `request` rather than the
 * global `fetch`: fetch's WHATWG streams, Request/Response objects and per-call AbortSignal
 * plumbing were the largest part of a delivery's CPU in the benchmark's profile
 * (docs/performance.md). Idle sockets do not keep the process alive.
 */
let pool: Agent | undefined;
const agent = () => (pool ??= new Agent({ keepAliveTimeout: 10_000, connections: 64 }));

/** Reads at most `limit` bytes of the answer, then lets the rest go. */
async function firstBytes(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } finally {
    if (size >= limit) body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * One webhook POST. Success is a 2xx whose status arrives within `timeoutMs`; a redirect, any
 * other status, a timeout or a network error is a failure (never thrown) with what happened.
 * Redirects are not followed: the endpoint's URL is the one the shop registered.
 */
export const postWebhook: PostWebhook = async ({ url, body, headers, timeoutMs }) => {
  const started = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const target = new URL(url);
    const response = await agent().request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      body,
      headers,
      signal: abort.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const latencyMs = performance.now() - started;
    // The answer's body is kept for the operator, within what is left of the time limit.
    const text = await firstBytes(response.body, RESPONSE_KEPT_BYTES).catch(() => null);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return {
      ok,
      statusCode: response.statusCode,
      latencyMs,
      responseBody: text,
      error: ok ? null : `HTTP ${response.statusCode}`,
    };
  } catch (err) {
    const timedOut = abort.signal.aborted;
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    return {
      ok: false,
      statusCode: null,
      latencyMs: performance.now() - started,
      responseBody: null,
      error: timedOut
        ? `no answer within ${timeoutMs / 1000} s`
        : (e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? 'request failed'),
    };
  } finally {
    clearTimeout(timer);
  }
};
