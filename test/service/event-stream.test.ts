/**
 * GET /admin/events/stream on its own Fastify app over real HTTP, on SQLite and PostgreSQL: what
 * it sends, where it starts, the filter, events no hint announced (another instance's), and that
 * a client leaving or the server closing leaves no listener and no open stream behind.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from '../../src/cli/sse-reader.js';
import { registerErrorHandler } from '../../src/http/error-handler.js';
import { adminEventStreamRoutes } from '../../src/http/routes/admin-event-stream.js';
import { createEventLog } from '../../src/webhooks/event-log.js';
import { fanOut } from '../../src/webhooks/fan-out.js';
import { recordEvents } from '../../src/webhooks/outbox.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';

for (const database of testDatabases()) {
  describe(`the event stream route, on ${database.name}`, () => {
    let handle: TestDbHandle;
    let app: FastifyInstance;
    let url: string;
    const listeners = new Set<() => void>();

    async function writeEvent(type: 'payment.succeeded' | 'payment.closed', hint: boolean): Promise<string> {
      const object = { object: 'payment', id: `order-${Math.random()}`, amount: 1 } as never;
      const [id] = await recordEvents(handle.db, [{ type, object, livemode: false, now: Date.now() }]);
      await fanOut(handle.db, Date.now());
      if (hint) for (const l of listeners) l();
      return id as string;
    }

    /** Opens the stream and collects its messages until `count` arrived; then leaves. */
    async function read(query: string, count: number, headers: Record<string, string> = {}) {
      const abort = new AbortController();
      const res = await fetch(`${url}/admin/events/stream${query}`, { headers, signal: abort.signal });
      const messages: SseMessage[] = [];
      const done = (async () => {
        try {
          for await (const m of readSse(res.body as ReadableStream<Uint8Array>)) {
            messages.push(m);
            if (messages.length >= count) break;
          }
        } finally {
          abort.abort();
        }
      })();
      return { res, messages, done };
    }

    /** The route alone on a Fastify app of its own, listening on a free port. */
    async function serve(): Promise<void> {
      app = Fastify();
      registerErrorHandler(app);
      await app.register(adminEventStreamRoutes, {
        events: createEventLog(handle.db),
        onLogGrowth(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        streamTimings: { pollMs: 200, heartbeatMs: 100 },
      });
      url = await app.listen({ port: 0, host: '127.0.0.1' });
    }

    beforeAll(async () => {
      handle = await database.openMigrated();
      await serve();
    });
    afterAll(async () => {
      await app?.close();
      await handle?.close();
    });

    it('starts from now by default, then sends each event as id, event and the webhook body', async () => {
      await writeEvent('payment.succeeded', true);
      const stream = await read('', 2);
      expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const id = await writeEvent('payment.succeeded', true);
      await stream.done;
      const [cursor, event] = stream.messages;
      expect(cursor).toMatchObject({ event: 'message', data: '' });
      expect(event).toMatchObject({ event: 'payment.succeeded', id: String(Number(cursor?.id) + 1) });
      expect(JSON.parse(event?.data ?? '')).toMatchObject({ id, type: 'payment.succeeded', livemode: false });
      expect(JSON.parse(event?.data ?? '')).not.toHaveProperty('sequence');
    });

    it('resumes after Last-Event-ID (over ?after), and finds events no hint announced by polling', async () => {
      const first = await writeEvent('payment.succeeded', false);
      const second = await writeEvent('payment.closed', false);
      const { events } = await createEventLog(handle.db).list(0, 500);
      const before = events.find((e) => e.id === first)?.sequence as number;
      const stream = await read('?after=0', 2, { 'last-event-id': String(before) });
      await stream.done;
      expect(stream.messages[0]?.id).toBe(String(before));
      expect(JSON.parse(stream.messages[1]?.data ?? '').id).toBe(second);
    });

    it('sends only the types asked for, and refuses a type it does not know', async () => {
      const stream = await read('?types=payment.closed', 2);
      await writeEvent('payment.succeeded', true);
      const closed = await writeEvent('payment.closed', true);
      await stream.done;
      expect(JSON.parse(stream.messages[1]?.data ?? '').id).toBe(closed);
      const bad = await fetch(`${url}/admin/events/stream?types=payment.paid`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toContain(
        'Unknown event type payment.paid',
      );
      const badId = await fetch(`${url}/admin/events/stream`, { headers: { 'last-event-id': 'abc' } });
      expect(badId.status).toBe(400);
      await badId.body?.cancel();
    });

    it('sends heartbeats, and drops its listener when the client leaves', async () => {
      const res = await fetch(`${url}/admin/events/stream`);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
      expect(listeners.size).toBe(1);
      await reader.cancel();
      await expect.poll(() => listeners.size).toBe(0);
    });

    it('ends open streams when the server closes, instead of holding the close up', async () => {
      // A server of its own: only the stream is open when it closes.
      await app.close();
      await serve();
      const res = await fetch(`${url}/admin/events/stream`);
      const ended = (async () => {
        for await (const _ of res.body as ReadableStream<Uint8Array>);
      })();
      await expect.poll(() => listeners.size).toBe(1);
      const started = Date.now();
      await app.close();
      await ended;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(listeners.size).toBe(0);
    });
  });
}
