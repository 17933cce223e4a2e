/**
 * Turns what the page observes into timeline entries. Nothing secret can reach these: the page
 * never holds a key, and the session token is deliberately not passed in (only its lifetime).
 */
import { formatFen, formatTime, maskOpenid } from './i18n.js';
import { faultName, formatOffset } from './sim-words.js';

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

/**
 * One entry per service event; `key` identifies it, since events are append-only. A close
 * writes its reason and the state change as two events at the same moment: the watch folds them
 * into one before they get here, so one close is one entry.
 */
export function serviceEventEntry(key, event) {
  const tone = { anomaly: 'bad', prepay_failed: 'warn', notification_rejected: 'bad' }[event.type] ?? 'info';
  return {
    key,
    signature: `${event.type}|${JSON.stringify(event.data)}`,
    kind: `event-${event.type}`,
    actor: 'service',
    tone: event.type === 'state_changed' ? 'ok' : tone,
    title: (t) => t(`event.${event.type}`),
    rows: (t) => summarise(event.data, t),
  };
}

/** The moment the demo exists to show: no notification ever came, and the reconciler settled it. */
export function lostNotificationSettledEntry(order) {
  return {
    key: `lost-settled:${order.id}`,
    kind: 'lost-notification-settled',
    actor: 'service',
    tone: 'ok',
    title: (t) => t('tl.lostSettled'),
    rows: () => [['out_trade_no', order.outTradeNo]],
    note: (t) => t('tl.lostSettledNote'),
  };
}

/** A delivery attempt is shown when scheduled and redrawn when the service's reply is in. */
export function notificationEntry(attempt) {
  const waiting = attempt.status === 'pending' || attempt.status === 'scheduled';
  const tone = attempt.ok === true ? 'ok' : waiting ? 'info' : 'bad';
  const copy = attempt.copy ?? 1;
  return {
    key: `notify:${attempt.id}`,
    signature: `${attempt.status}|${attempt.reply ?? ''}|${attempt.ok}|${attempt.error ?? ''}`,
    kind: 'notification',
    actor: 'wechat',
    tone,
    title: (t) => t(copy > 1 ? 'tl.notifyCopy' : 'tl.notify', { attempt: attempt.attempt, copy }),
    rows: (t) =>
      [
        [t('tl.notifyStatus'), t(`notify.${attempt.status}`)],
        [t('tl.notifyReply'), replyOf(attempt)],
        // A dropped attempt's error is the simulator's note in English; its status says it all.
        attempt.error && attempt.status !== 'dropped' && [t('tl.error'), attempt.error],
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

/** `action` is 'on' or 'off' with the rule, or 'clear'. */
export function faultEntry(action, rule) {
  const key = { on: 'tl.faultOn', off: 'tl.faultOff', clear: 'tl.faultClear' }[action];
  return {
    kind: 'fault',
    actor: 'simulator',
    tone: action === 'on' ? 'warn' : 'info',
    title: (t) => t(key, { name: rule ? faultName(rule, t) : '' }),
  };
}

/** `action` is 'advance' or 'reset'; `clock` is what GET /sim/clock answers. */
export function clockEntry(action, clock) {
  return {
    kind: `clock-${action}`,
    actor: 'simulator',
    tone: action === 'advance' ? 'warn' : 'info',
    title: (t) =>
      action === 'advance'
        ? t('tl.clockAdvanced', { offset: formatOffset(clock.offset_ms, t) })
        : t('tl.clockReset'),
    rows: (t) => [[t('tl.simNow'), formatTime(clock.now_ms)]],
    note: action === 'advance' ? (t) => t('tl.clockNote') : undefined,
  };
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

/** Fields whose values are codes the page has words for: order states and why a query ran. */
const VALUE_LABELS = {
  from: 'status',
  to: 'status',
  status: 'status',
  paidSource: 'source',
  source: 'source',
};

/** Shows an event's data as rows of scalars; a nested value becomes `key: value` pairs. */
function summarise(data, t) {
  if (data === null || typeof data !== 'object') return data === undefined ? [] : [['data', String(data)]];
  // A field the page has a label for is shown by its label; any other keeps its own name.
  const known = (key, fallback) => (t(key) === key ? fallback : t(key));
  const value = (k, v) =>
    VALUE_LABELS[k] ? known(`${VALUE_LABELS[k]}.${v}`, String(v)) : showValue(k, v, t);
  return Object.entries(data).map(([k, v]) => [known(`field.${k}`, k), value(k, v)]);
}

// Event data carries times as epoch milliseconds (`paidAt: 1795747910000`); show them as times.
function showValue(key, value, t) {
  if (typeof value === 'number' && /At$/.test(key) && value > 1e12) return formatTime(value);
  if (typeof value === 'boolean') return t(value ? 'value.yes' : 'value.no');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${showValue(k, v, t)}`)
      .join(', ');
  }
  return String(value);
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
