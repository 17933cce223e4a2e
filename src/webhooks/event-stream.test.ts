import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LoggedEvent } from './event-log.js';
import { eventFrame, openEventStream } from './event-stream.js';

function loggedEvent(sequence: number, type = 'payment.succeeded'): LoggedEvent {
  return {
    sequence,
    id: `evt_${sequence}`,
    type,
    created: 1_700_000_000,
    livemode: false,
    data: { object: {} },
  };
}

/** An event log in memory, with the hint listeners the stream subscribes to counted. */
function fakeLog() {
  const log: LoggedEvent[] = [];
  const listeners = new Set<() => void>();
  return {
    log,
    listeners,
    append(type?: string) {
      log.push(loggedEvent(log.length + 1, type));
      for (const l of listeners) l();
    },
    async list(after: number, limit: number) {
      const rest = log.filter((e) => e.sequence > after);
      return { events: rest.slice(0, limit), hasMore: rest.length > limit };
    },
    onWake(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function open(log: ReturnType<typeof fakeLog>, options: { after?: number; types?: string[] } = {}) {
  const frames: string[] = [];
  const stream = openEventStream({
    list: log.list,
    onWake: (l) => log.onWake(l),
    after: options.after ?? 0,
    types: options.types && new Set(options.types),
    write: (f) => frames.push(f) > 0,
    drained: async () => {},
    pollMs: 1000,
    heartbeatMs: 15_000,
    onError: (err) => {
      throw err;
    },
  });
  return { stream, frames };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the event stream', () => {
  it('frames an event as id (the sequence), event (the type) and data (the webhook body, without the sequence)', () => {
    expect(eventFrame(loggedEvent(7))).toBe(
      'id: 7\nevent: payment.succeeded\ndata: {"id":"evt_7","type":"payment.succeeded","created":1700000000,"livemode":false,"data":{"object":{}}}\n\n',
    );
  });

  it('sends what is after the cursor, then each new event when the log is woken, before any poll', async () => {
    vi.useFakeTimers();
    const log = fakeLog();
    log.append();
    log.append();
    const { stream, frames } = open(log, { after: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(frames.map((f) => f.split('\n')[0])).toEqual(['id: 2']);
    log.append();
    await vi.advanceTimersByTimeAsync(0);
    expect(frames.map((f) => f.split('\n')[0])).toEqual(['id: 2', 'id: 3']);
    stream.close();
    await stream.finished;
  });

  it('finds events no hint announced (another instance wrote them) by polling', async () => {
    vi.useFakeTimers();
    const log = fakeLog();
    const { stream, frames } = open(log);
    await vi.advanceTimersByTimeAsync(0);
    log.log.push(loggedEvent(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(frames).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(frames).toHaveLength(1);
    stream.close();
    await stream.finished;
  });

  it('sends only the types asked for, yet moves its cursor past the others', async () => {
    vi.useFakeTimers();
    const log = fakeLog();
    const list = vi.spyOn(log, 'list');
    const { stream, frames } = open(log, { types: ['refund.succeeded'] });
    log.append('payment.succeeded');
    log.append('refund.succeeded');
    await vi.advanceTimersByTimeAsync(0);
    expect(frames.map((f) => f.split('\n')[1])).toEqual(['event: refund.succeeded']);
    list.mockClear();
    await vi.advanceTimersByTimeAsync(1000);
    expect(list).toHaveBeenCalledWith(2, 100);
    stream.close();
    await stream.finished;
  });

  it('pages through a long backlog', async () => {
    const log = fakeLog();
    for (let i = 0; i < 250; i++) log.append();
    const { stream, frames } = open(log);
    await vi.waitFor(() => expect(frames).toHaveLength(250));
    expect(frames.at(-1)?.startsWith('id: 250\n')).toBe(true);
    stream.close();
    await stream.finished;
  });

  it('sends a heartbeat comment every 15 s', async () => {
    vi.useFakeTimers();
    const { stream, frames } = open(fakeLog());
    await vi.advanceTimersByTimeAsync(45_000);
    expect(frames.filter((f) => f === ': heartbeat\n\n')).toHaveLength(3);
    stream.close();
    await stream.finished;
  });

  it('leaves no timer and no listener behind when closed, asleep or not', async () => {
    vi.useFakeTimers();
    const log = fakeLog();
    const { stream } = open(log);
    await vi.advanceTimersByTimeAsync(500);
    expect(log.listeners.size).toBe(1);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    stream.close();
    stream.close();
    await stream.finished;
    expect(log.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
