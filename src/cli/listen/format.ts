import type { PostResult } from '../../webhooks/post-webhook.js';
import type { painter } from '../colour.js';
import { yuan } from '../orders.js';

type Paint = ReturnType<typeof painter>;

interface EventBody {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
}

/** What the event is about, in a few words: the payment or refund, its amount; or the finding. */
function subject(object: Record<string, unknown>): string {
  const amount = typeof object.amount === 'number' ? ` ${yuan(object.amount)}` : '';
  if (object.object === 'payment') return `payment ${object.id}${amount}`;
  if (object.object === 'refund') return `refund ${object.id} of payment ${object.paymentId}${amount}`;
  if (object.object === 'reconciliation_mismatch') {
    return `${object.kind} on ${object.billDate}${object.outTradeNo ? ` (${object.outTradeNo})` : ''}`;
  }
  return String(object.object ?? '');
}

/** `08:12:01  payment.succeeded  evt_…  payment 4b1c… ¥0.01`: one event on one line. */
export function formatEvent(body: EventBody, paint: Paint): string {
  const time = new Date(body.created * 1000).toISOString().slice(11, 19);
  return `${paint('dim', time)}  ${paint('bold', body.type.padEnd(23))}  ${body.id}  ${subject(body.data.object)}`;
}

/** `  → 200 in 12 ms`, or `  → failed: ECONNREFUSED after 3 ms`: what the local receiver said. */
export function formatForward(result: PostResult, paint: Paint): string {
  const ms = `${Math.round(result.latencyMs)} ms`;
  if (result.ok) return `  ${paint('green', `→ ${result.statusCode}`)} in ${ms}`;
  const what = result.statusCode === null ? (result.error ?? 'no answer') : `${result.statusCode}`;
  return `  ${paint('red', `→ ${what}`)} after ${ms}`;
}
