import { performance } from 'node:perf_hooks';

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

/** Reads at most `limit` bytes of the answer, then lets the rest go. */
async function firstBytes(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
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
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: abort.signal,
    });
    const latencyMs = performance.now() - started;
    // The answer's body is kept for the operator, within what is left of the time limit.
    const text = await firstBytes(response, RESPONSE_KEPT_BYTES).catch(() => null);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      statusCode: response.status,
      latencyMs,
      responseBody: text,
      error: ok ? null : `HTTP ${response.status}`,
    };
  } catch (err) {
    const timedOut = abort.signal.aborted;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      statusCode: null,
      latencyMs: performance.now() - started,
      responseBody: null,
      error: timedOut
        ? `no answer within ${timeoutMs / 1000} s`
        : (cause?.code ?? cause?.message ?? (err as Error).message ?? 'request failed'),
    };
  } finally {
    clearTimeout(timer);
  }
};
