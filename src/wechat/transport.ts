import { Agent, errors as undiciErrors } from 'undici';
import { exchange } from '../http/undici-exchange.js';
import { WechatUnknownOutcomeError } from './errors.js';

/**
 * The one HTTP layer under every WeChat client (v2 XML, login and v3 JSON).
 *
 * - A keep-alive undici Agent: WeChat calls are frequent and small, a TLS handshake per call
 *   would cost more than the call.
 * - Every call has one deadline covering the wait for a socket, connect, headers AND body, so a
 *   server that sends headers and then trickles the body cannot hold a request open forever
 *   (one {@link exchange} over undici's dispatch API).
 * - A response size cap, because a peer that streams without end would otherwise fill memory.
 * - Failures are mapped to {@link WechatUnknownOutcomeError}: when the socket fails we cannot
 *   know whether WeChat acted, so callers settle the outcome by querying, never by guessing.
 *   Messages name the origin and path only, never the query string (code2Session carries the
 *   AppSecret there).
 */

export interface TransportTls {
  /** PEM client certificate for mutual TLS (v2 `/secapi/` calls). */
  cert?: string | Buffer;
  /** PEM private key of `cert`. */
  key?: string | Buffer;
  /** Extra CA(s) to trust instead of the system store, e.g. the simulator's test CA. */
  ca?: string | Buffer | Array<string | Buffer>;
  passphrase?: string;
}

export interface TransportOptions {
  /** Deadline for a whole call (connect + headers + body). */
  timeoutMs: number;
  tls?: TransportTls;
  /** Largest response body accepted. Default 1 MiB; bills ask for more per request. */
  maxResponseBytes?: number;
}

export interface TransportRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Overrides the transport's deadline for this call (bill downloads are slower). */
  timeoutMs?: number;
  /** Overrides the transport's size cap for this call. */
  maxResponseBytes?: number;
}

export interface TransportResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  /** Closes idle keep-alive sockets; calls in flight finish first. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * @example
 * const transport = createTransport({ timeoutMs: 5000 });
 * const res = await transport.request({ method: 'POST', url: 'https://api.mch.weixin.qq.com/pay/orderquery',
 *   headers: { 'content-type': 'text/xml' }, body: xml });
 * await transport.close();
 */
export function createTransport(options: TransportOptions): Transport {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 64,
    ...(options.tls ? { connect: { ...options.tls } } : {}),
  });
  const defaultMax = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function request(req: TransportRequest): Promise<TransportResponse> {
    const url = new URL(req.url);
    const where = `${req.method} ${url.origin}${url.pathname}`;
    const timeoutMs = req.timeoutMs ?? options.timeoutMs;
    const maxBytes = req.maxResponseBytes ?? defaultMax;
    let status = 0;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    return exchange<TransportResponse>(
      agent,
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers ?? {},
        body: req.body ?? null,
      },
      timeoutMs,
      {
        onHeaders(statusCode, raw) {
          status = statusCode;
          headers = flattenHeaders(raw);
        },
        onData(chunk) {
          size += chunk.length;
          if (size > maxBytes) {
            throw new WechatUnknownOutcomeError(
              'malformed',
              `${where}: response is larger than ${maxBytes} bytes`,
            );
          }
          chunks.push(chunk);
          return undefined;
        },
        onEnd: () => ({ status, headers, body: Buffer.concat(chunks) }),
        onError(err) {
          throw toUnknownOutcome(err, where, timeoutMs);
        },
        onTimeout() {
          throw timeoutError(where, timeoutMs);
        },
      },
    );
  }

  return { request, close: () => agent.close() };
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function timeoutError(where: string, timeoutMs: number, cause?: unknown): WechatUnknownOutcomeError {
  return new WechatUnknownOutcomeError(
    'timeout',
    `${where}: no complete answer within ${timeoutMs} ms`,
    cause === undefined ? undefined : { cause },
  );
}

/** An error undici reported (connect, reset, its own timeouts) as the outcome we cannot know. */
function toUnknownOutcome(err: unknown, where: string, timeoutMs: number): WechatUnknownOutcomeError {
  if (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  ) {
    return timeoutError(where, timeoutMs, err);
  }
  const code = (err as { code?: unknown } | null)?.code;
  const detail = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  return new WechatUnknownOutcomeError('network', `${where}: connection failed (${detail})`, { cause: err });
}
