import { ServiceError, type ServiceTarget } from '../service-client.js';
import { pause } from '../service-command.js';
import { readSse, type SseMessage } from '../sse-reader.js';

/** Three missed heartbeats (sent every 15 s) and the connection is taken for dead. */
const SILENCE_MS = 45_000;
const RETRY_MS = 1000;

export interface SubscriptionEvents {
  /** Connected (`again` after a reconnect). */
  connected(again: boolean): void;
  /** The connection dropped; `reason` says why. Called once per outage. */
  lost(reason: string): void;
  message(message: SseMessage): Promise<void>;
}

/**
 * Follows GET /admin/events/stream until `stopped` resolves, reconnecting with Last-Event-ID
 * when the service goes away (a restart), so no event is missed or repeated. A refusal (a wrong
 * token, a bad filter) or no service at the first try is thrown as a ServiceError.
 */
export async function subscribe(
  target: ServiceTarget & { token: string },
  types: readonly string[] | undefined,
  stopped: Promise<unknown>,
  on: SubscriptionEvents,
): Promise<void> {
  let lastId: string | undefined;
  let connectedOnce = false;
  let outage = false;
  let stop = false;
  const abort = new AbortController();
  void stopped.then(() => {
    stop = true;
    abort.abort();
  });
  const query = types ? `?${new URLSearchParams({ types: types.join(',') })}` : '';
  while (!stop) {
    const silence = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const alive = () => {
      clearTimeout(timer);
      timer = setTimeout(() => silence.abort(), SILENCE_MS);
    };
    try {
      alive();
      const res = await fetch(`${target.url}/admin/events/stream${query}`, {
        headers: {
          authorization: `Bearer ${target.token}`,
          accept: 'text/event-stream',
          ...(lastId !== undefined && { 'last-event-id': lastId }),
        },
        signal: AbortSignal.any([abort.signal, silence.signal]),
      });
      if (!res.ok || res.body === null) throw await refusal(target.url, res);
      on.connected(connectedOnce);
      connectedOnce = true;
      outage = false;
      for await (const message of readSse(res.body, alive)) {
        lastId = message.id ?? lastId;
        if (message.data !== '') await on.message(message);
      }
      if (!stop) throw new Error('the service closed the stream');
    } catch (err) {
      if (stop) break;
      // A refusal is final; a 5xx after we were in (a service on its way down or up) is an outage.
      if (err instanceof ServiceError && !(connectedOnce && (err.status ?? 0) >= 500)) throw err;
      const reason = silence.signal.aborted ? `no heartbeat in ${SILENCE_MS / 1000} s` : causeOf(err);
      if (!connectedOnce) {
        throw new ServiceError(
          `no weapp-pay service answers at ${target.url} (${reason}): start it (weapp-pay start, or serve) or set WEAPP_PAY_URL`,
        );
      }
      if (!outage) on.lost(reason);
      outage = true;
    } finally {
      clearTimeout(timer);
    }
    await pause(RETRY_MS, stopped);
  }
}

async function refusal(url: string, res: Response): Promise<ServiceError> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (res.status === 401) {
    return new ServiceError(
      `the service at ${url} refused the admin token (${body.message ?? 'HTTP 401'}): set ADMIN_TOKEN to the service's ADMIN_TOKEN`,
      401,
    );
  }
  if (res.status === 404) {
    return new ServiceError(
      `the service at ${url} has no GET /admin/events/stream: it is older than this command; upgrade it`,
      404,
    );
  }
  return new ServiceError(
    `GET /admin/events/stream answered ${res.status}${body.code ? ` ${body.code}` : ''}: ${body.message ?? 'no message'}`,
    res.status,
    body.code,
  );
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
