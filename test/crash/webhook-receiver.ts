/**
 * The shop's webhook receiver in a crash run: a plain node:http server that shares no code with
 * the service (it verifies the signature itself, with node:crypto) and records every POST it got.
 * It answers 200 to a body that verifies and 400 to one that does not, as a shop would.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST as it arrived. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  /** `data.object.outTradeNo`, for events about a payment. */
  outTradeNo: string | undefined;
  /** The raw body, byte for byte. */
  body: string;
  verified: boolean;
}

export interface WebhookReceiver {
  url: string;
  /** The secret the service signs with (WEBHOOK_SECRET). */
  secret: string;
  received: ReceivedWebhook[];
  /** Called as each POST arrives, before it is answered (a kill can land there). */
  onReceived(listener: () => void): void;
  close(): Promise<void>;
}

/** `t=…,v1=…[,v1=…]`: true when any v1 is HMAC-SHA256(secret, t + "." + body). */
export function signatureVerifies(header: string | undefined, body: string, secret: string): boolean {
  const parts = (header ?? '').split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (t === undefined || !/^\d+$/.test(t)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v as string, 'hex'), expected));
}

/**
 * `verifyWith` is the secret the receiver checks with; a test passes a wrong one to prove the
 * check fires. The service's instances restart with clocks minutes ahead (see world.ts), so the
 * receiver checks the signature but not the timestamp's age.
 */
export async function startWebhookReceiver(secret: string, verifyWith = secret): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const listeners: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const listener of listeners) listener();
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = signatureVerifies(req.headers['weapp-pay-signature'] as string, body, verifyWith);
      let event: { id?: string; type?: string; data?: { object?: { outTradeNo?: string } } } = {};
      try {
        event = JSON.parse(body);
      } catch {
        // Recorded with an empty id and type: the checks report it.
      }
      received.push({
        id: event.id ?? '',
        type: event.type ?? '',
        outTradeNo: event.data?.object?.outTradeNo,
        body,
        verified,
      });
      res.writeHead(verified ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    secret,
    received,
    onReceived: (listener) => listeners.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
