/**
 * A webhook receiver for tests, written with node:http and node:crypto only: it shares no code
 * with the service, and checks Weapp-Pay-Signature by hand as a shop in any language would
 * (HMAC-SHA256 of `t.body`, hex, any v1 entry, constant-time compare). It records every request,
 * answers as the test says, and counts requests in progress to catch concurrent duplicates.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  eventId: string;
  type: string;
  body: string;
  header: string;
  /** Whether the signature verified with the receiver's secret. */
  verified: boolean;
  /** Requests for this same event in progress when this one arrived (0 unless a duplicate overlaps). */
  overlapping: number;
}

export type Answer = { status: number; body?: string; delayMs?: number };

export interface TestReceiver {
  url: string;
  /** The endpoint's secret, set once the service has made it. */
  secret: string;
  /** The receiver's clock (ms): a `t` more than 300 s away from it is refused as a replay. */
  now: () => number;
  received: Received[];
  /** Distinct event ids that verified and were answered 2xx, in first-seen order: applied once each. */
  applied: string[];
  /** The most requests for one event in progress at the same moment. */
  maxOverlap: number;
  /** How to answer the next request (default 200). */
  answer: (received: Received, count: number) => Answer;
  close(): Promise<void>;
}

function verify(body: string, header: string, secret: string, nowMs: number): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (!t || !/^[0-9]+$/.test(t) || Math.abs(nowMs / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? ''))
    .some(([, v]) => timingSafeEqual(expected, Buffer.from(v!, 'hex')));
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startReceiver(port = 0): Promise<TestReceiver> {
  const inProgress = new Map<string, number>();
  const receiver: TestReceiver = {
    url: '',
    secret: '',
    now: () => Date.now(),
    received: [],
    applied: [],
    maxOverlap: 0,
    answer: () => ({ status: 200 }),
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const header = String(req.headers['weapp-pay-signature'] ?? '');
    let event: { id?: string; type?: string } = {};
    try {
      event = JSON.parse(body);
    } catch {}
    const eventId = String(event.id);
    const overlapping = inProgress.get(eventId) ?? 0;
    inProgress.set(eventId, overlapping + 1);
    receiver.maxOverlap = Math.max(receiver.maxOverlap, overlapping + 1);
    const got: Received = {
      eventId,
      type: String(event.type),
      body,
      header,
      verified: verify(body, header, receiver.secret, receiver.now()),
      overlapping,
    };
    receiver.received.push(got);
    const answer = receiver.answer(got, receiver.received.filter((r) => r.eventId === eventId).length);
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (got.verified && answer.status < 300 && !receiver.applied.includes(eventId))
      receiver.applied.push(eventId);
    inProgress.set(eventId, (inProgress.get(eventId) ?? 1) - 1);
    if (!res.destroyed)
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? 'ok');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
