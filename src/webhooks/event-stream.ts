import type { LoggedEvent } from './event-log.js';

export interface EventStreamOptions {
  /** The event log's page query (the one GET /admin/events answers from). */
  list(after: number, limit: number): Promise<{ events: LoggedEvent[]; hasMore: boolean }>;
  /** Subscribes to in-process hints that the log may have grown; returns the unsubscribe. */
  onWake(listener: () => void): () => void;
  /** Sends the events after this sequence. */
  after: number;
  /** Only these types; every type when undefined. */
  types?: ReadonlySet<string>;
  /** Writes one SSE frame; returns false when the peer is slow (the stream then waits for drain). */
  write(frame: string): boolean;
  /** Resolves when a slow peer has taken what was written. */
  drained(): Promise<void>;
  /** The safety net for other instances' events: the log is read at least this often. */
  pollMs: number;
  heartbeatMs: number;
  onError(err: unknown): void;
}

export interface EventStream {
  /** Stops reading, clears every timer and listener. Idempotent. */
  close(): void;
  /** Resolves when the read loop has ended after close(). */
  readonly finished: Promise<void>;
}

const PAGE = 100;

/**
 * One event as an SSE frame: `id:` the sequence (what the client sends back as Last-Event-ID),
 * `event:` the type, `data:` the webhook body, byte for byte as a webhook carries it.
 */
export function eventFrame(event: LoggedEvent): string {
  const { sequence, ...body } = event;
  return `id: ${sequence}\nevent: ${body.type}\ndata: ${JSON.stringify(body)}\n\n`;
}

/**
 * Follows the event log for one client: reads it after the client's cursor, writes what matches,
 * then sleeps until woken (an outbox commit or a fan-out in this process) or `pollMs` passes.
 * A comment line every `heartbeatMs` keeps proxies from closing an idle connection.
 */
export function openEventStream(options: EventStreamOptions): EventStream {
  let cursor = options.after;
  let closed = false;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  let sleepTimer: NodeJS.Timeout | undefined;
  const heartbeat = setInterval(() => options.write(': heartbeat\n\n'), options.heartbeatMs);
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const unsubscribe = options.onWake(wake);

  function sleep(): Promise<void> {
    if (woken || closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      wakeUp = resolve;
      sleepTimer = setTimeout(resolve, options.pollMs);
    }).then(() => {
      clearTimeout(sleepTimer);
      sleepTimer = undefined;
      wakeUp = undefined;
    });
  }

  async function readAll(): Promise<void> {
    for (;;) {
      const { events, hasMore } = await options.list(cursor, PAGE);
      for (const event of events) {
        if (closed) return;
        cursor = event.sequence;
        if (options.types && !options.types.has(event.type)) continue;
        if (!options.write(eventFrame(event))) await options.drained();
      }
      if (!hasMore) return;
    }
  }

  const finished = (async () => {
    while (!closed) {
      woken = false;
      try {
        await readAll();
      } catch (err) {
        if (!closed) options.onError(err);
      }
      await sleep();
    }
  })();

  return {
    finished,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      wakeUp?.();
    },
  };
}
