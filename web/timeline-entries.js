/**
 * Turns what the page observes into timeline entries. Nothing secret can reach these: the page
 * never holds a key, and the session token is deliberately not passed in (only its lifetime).
 */
import { formatFen, maskOpenid } from './i18n.js';

export function wxLoginEntry({ code, openid }) {
  return {
    kind: 'wx-login',
    actor: 'phone',
    title: (t) => t('tl.wxLogin'),
    rows: (t) => [
      ['code', shorten(code)],
      [t('tl.openidSim'), maskOpenid(openid)],
    ],
    note: (t) => t('tl.wxLoginNote'),
  };
}

export function loginEntry({ status, expiresIn }) {
  return {
    kind: 'login',
    actor: 'service',
    tone: 'ok',
    title: () => `POST /api/login → ${status}`,
    rows: (t) => [[t('tl.token'), t('tl.tokenIssued', { expiresIn })]],
    note: (t) => t('tl.loginNote'),
  };
}

export function reloginEntry({ path }) {
  return {
    kind: 'relogin',
    actor: 'service',
    tone: 'warn',
    title: (t) => t('tl.relogin', { path }),
  };
}

export function orderEntry(order) {
  return {
    kind: 'order',
    actor: 'service',
    tone: 'ok',
    title: () => 'POST /api/orders → 201',
    rows: (t) => [
      [t('tl.orderId'), order.id],
      ['out_trade_no', order.outTradeNo],
      [t('tl.amount'), `${formatFen(order.amount)} (${order.amount} fen)`],
      [t('tl.status'), order.status],
    ],
    note: (t) => t('tl.orderNote'),
  };
}

export function paymentEntry(payment) {
  return {
    kind: 'payment-params',
    actor: 'service',
    title: (t) => t('tl.payment'),
    rows: () => ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'].map((k) => [k, payment[k]]),
    note: (t) => t('tl.paymentNote'),
  };
}

export function payResultEntry(errMsg) {
  const ok = errMsg === 'requestPayment:ok';
  return {
    kind: 'pay-result',
    actor: 'phone',
    tone: ok ? 'ok' : 'warn',
    title: () => `wx.requestPayment → ${errMsg}`,
    note: (t) => t(ok ? 'tl.payOkNote' : 'tl.payNotOkNote'),
  };
}

/** One entry per service event; `index` keys it, since events are append-only. */
export function serviceEventEntry(orderId, index, event) {
  const tone = { anomaly: 'bad', prepay_failed: 'warn', notification_rejected: 'bad' }[event.type] ?? 'info';
  return {
    key: `event:${orderId}:${index}`,
    signature: event.type,
    kind: `event-${event.type}`,
    actor: 'service',
    tone: event.type === 'state_changed' ? 'ok' : tone,
    title: (t) => `${t(`event.${event.type}`)} · ${event.type}`,
    rows: () => summarise(event.data),
  };
}

/** A delivery attempt is shown when scheduled and redrawn when the service's reply is in. */
export function notificationEntry(attempt) {
  const waiting = attempt.status === 'pending' || attempt.status === 'scheduled';
  const tone = attempt.ok === true ? 'ok' : waiting ? 'info' : 'bad';
  return {
    key: `notify:${attempt.id}`,
    signature: `${attempt.status}|${attempt.reply ?? ''}|${attempt.ok}|${attempt.error ?? ''}`,
    kind: 'notification',
    actor: 'wechat',
    tone,
    title: (t) => t('tl.notify', { attempt: attempt.attempt, kind: attempt.kind ?? 'pay' }),
    rows: (t) =>
      [
        [t('tl.notifyStatus'), attempt.status],
        [t('tl.notifyReply'), replyOf(attempt)],
        attempt.error && [t('tl.error'), attempt.error],
        ...v3Rows(attempt.v3),
      ].filter(Boolean),
  };
}

export function syncEntry(order) {
  return {
    kind: 'sync',
    actor: 'phone',
    title: (t) => t('tl.sync', { status: order.status }),
    note: (t) => t('tl.syncNote'),
  };
}

export function statusSeenEntry(order) {
  return {
    kind: 'status-seen',
    actor: 'phone',
    tone: order.status === 'PAID' ? 'ok' : 'info',
    title: () => `GET /api/orders/${order.id} → ${order.status}`,
    rows: () => (order.transactionId ? [['transaction_id', order.transactionId]] : []),
  };
}

export function faultEntry(description) {
  return { kind: 'fault', actor: 'simulator', tone: 'warn', title: () => description };
}

export function systemErrorUsedEntry(order) {
  return {
    kind: 'systemerror-used',
    actor: 'simulator',
    tone: 'warn',
    title: (t) => t('tl.systemErrorUsed'),
    rows: () => [['out_trade_no', order.outTradeNo]],
    note: (t) => t('tl.systemErrorUsedNote'),
  };
}

export function errorEntry(what, err) {
  return {
    kind: 'error',
    actor: err.status ? 'service' : 'phone',
    tone: 'bad',
    title: () => `${what}: ${err.status ? `${err.status} ` : ''}${err.code ?? ''}`,
    note: () => err.message ?? String(err),
  };
}

/** Shows an event's data as rows of scalars; nested values are compacted to JSON. */
function summarise(data) {
  if (data === null || typeof data !== 'object') return data === undefined ? [] : [['data', String(data)]];
  return Object.entries(data).map(([k, v]) => [k, showValue(k, v)]);
}

// Event data carries times as epoch milliseconds (`paidAt: 1795747910000`); show them as times.
function showValue(key, value) {
  if (typeof value === 'number' && /At$/.test(key) && value > 1e12) return new Date(value).toISOString();
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A v3 reply is its status (204, or 4xx/5xx with {code, message}); a v2 reply is XML. */
function replyOf(attempt) {
  if (attempt.v3 && attempt.http_status) return `HTTP ${attempt.http_status} ${attempt.reply ?? ''}`.trim();
  return attempt.reply ? replySummary(attempt.reply) : '—';
}

/**
 * API v3: the signed headers (values shortened) and the resource as the service decrypts it
 * with the APIv3 key; the simulator shows the plaintext it encrypted, the browser never decrypts.
 */
function v3Rows(v3) {
  if (!v3) return [];
  const headers = Object.entries(v3.headers).map(([name, value]) => [name, shortenHeader(value)]);
  const resource = v3.resource
    ? [['resource (decrypted)', JSON.stringify(v3.resource, null, 1).replace(/\n\s*/g, ' ')]]
    : [];
  return [...headers, ...resource];
}

function shortenHeader(value) {
  return value.length > 40 ? `${value.slice(0, 24)}…${value.slice(-8)}` : value;
}

/** The service's XML reply to a notification, read for its return_code/return_msg. */
function replySummary(reply) {
  if (typeof reply === 'object') return [reply.return_code, reply.return_msg].filter(Boolean).join(' ');
  const code = /<return_code>(?:<!\[CDATA\[)?(\w+)/.exec(reply)?.[1];
  const msg = /<return_msg>(?:<!\[CDATA\[)?([^\]<]*)/.exec(reply)?.[1];
  return code ? `${code}${msg ? ` (${msg})` : ''}` : reply.slice(0, 120);
}

function shorten(value) {
  return typeof value === 'string' && value.length > 14 ? `${value.slice(0, 10)}…` : String(value);
}
