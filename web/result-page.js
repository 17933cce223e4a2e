/**
 * The order-result screen. What it says is a function of two things: the order status the
 * server reported (PAID, CLOSED, …) and, while the order is still PENDING, what the phone
 * knows (cashier open, cancelled, failed, waiting for confirmation). "支付成功" is drawn only
 * for `order.status === 'PAID'`.
 */
import { h, replaceChildren } from './dom.js';
import { formatFen, formatTime } from './i18n.js';

export function createResultPage({ root, i18n, actions }) {
  let state = null;

  function render() {
    if (state) replaceChildren(root, view(state, i18n, actions));
  }
  i18n.onChange(render);

  return {
    show(next) {
      state = next;
      render();
    },
  };
}

function view(state, i18n, actions) {
  const t = i18n.t;
  if (state.phase === 'creating') return [hero('busy', t('result.creating'))];
  if (state.phase === 'error') return errorView(state, t, actions);
  const { order } = state;
  const summary = orderSummary(order, t);
  const back = button(t('action.back'), actions.back, 'back', 'ghost');
  switch (order.status) {
    case 'PAID':
      // A refund asked for and not settled yet leaves the order PAID: the list says where it is.
      return [hero('ok', t('result.paid'), formatFen(order.amount)), summary, refundList(order, t), back];
    case 'CLOSED':
      return [hero('muted', t('result.closed'), t('result.closedNote'), 'closed'), summary, back];
    case 'REVIEW':
      return [hero('bad', t('result.review'), t('result.reviewNote')), summary, back];
    case 'PARTIALLY_REFUNDED':
      return [
        hero('ok', t('result.partiallyRefunded'), t('result.refundedOf', refundedOf(order))),
        summary,
        refundList(order, t),
        back,
      ];
    case 'REFUNDED':
      return [
        hero('muted', t('result.refunded'), t('result.refundedOf', refundedOf(order))),
        summary,
        refundList(order, t),
        back,
      ];
    case 'PENDING':
      return [...pendingView(state, t, actions), summary, back];
    default:
      return [hero('muted', order.status), summary, back];
  }
}

function pendingView({ phase, errMsg }, t, actions) {
  const payAgain = button(t('action.payAgain'), actions.payAgain, 'pay-again');
  const close = button(t('action.closeOrder'), actions.close, 'close-order', 'ghost');
  const sync = button(t('action.sync'), actions.sync, 'sync');
  switch (phase) {
    case 'paying':
      return [hero('busy', t('result.paying'))];
    case 'confirming':
      return [hero('busy', t('result.confirming'), t('result.confirmingNote'))];
    case 'syncing':
      return [hero('busy', t('result.syncing'))];
    case 'unconfirmed':
      return [hero('warn', t('result.unconfirmed'), t('result.unconfirmedNote')), sync];
    case 'still-unconfirmed':
      return [hero('warn', t('result.stillUnconfirmed'), t('result.unconfirmedNote')), sync];
    case 'cancelled':
      return [hero('warn', t('result.cancelled'), t('result.cancelledNote')), payAgain, close];
    case 'failed':
      return [hero('bad', t('result.failed'), `${t('result.failedNote')} (${errMsg})`), payAgain, close];
    default:
      return [hero('muted', t('result.pending'))];
  }
}

function errorView({ error, product, quantity, idempotencyKey }, t, actions) {
  const known = {
    PAYMENT_UNAVAILABLE: 'err.upstream',
    UPSTREAM_UNAVAILABLE: 'err.upstream',
    RATE_LIMITED: 'err.rateLimited',
    PAYMENT_REJECTED: 'err.rejected',
    IDEMPOTENCY_KEY_IN_FLIGHT: 'err.inFlight',
    NETWORK: 'err.network',
  }[error.code];
  const detail = known ? t(known) : (error.message ?? '');
  return [
    hero('bad', t('result.orderFailed'), detail),
    h('p', { class: 'error-code', 'data-testid': 'error-code' }, `${error.status ?? ''} ${error.code ?? ''}`),
    button(t('action.retry'), () => actions.retry(product, quantity, idempotencyKey), 'retry'),
    button(t('action.back'), actions.back, 'back', 'ghost'),
  ];
}

/** 24-px line icons (stroke paths), drawn as SVG so they look the same on every system font. */
const ICONS = {
  ok: 'M5 12.5l4.5 4.5L19 7.5',
  bad: 'M6.5 6.5l11 11M17.5 6.5l-11 11',
  warn: 'M12 6v8M12 17.5v.5',
  closed: 'M5.6 5.6l12.8 12.8M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18',
  muted: 'M7 12h10',
};

function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('data-icon', name);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function hero(tone, title, subtitle, iconName = tone) {
  return h(
    'div',
    { class: `hero tone-${tone}`, 'data-testid': 'result-hero', 'data-tone': tone },
    tone === 'busy'
      ? h('div', { class: 'spinner', 'aria-hidden': 'true' })
      : h('div', { class: 'hero-icon', 'aria-hidden': 'true' }, icon(iconName)),
    h('h2', { class: 'hero-title', 'data-testid': 'result-title' }, title),
    subtitle && h('p', { class: 'hero-sub', 'data-testid': 'result-sub' }, subtitle),
  );
}

function orderSummary(order, t) {
  const rows = [
    [t('result.item'), `${order.description} × ${order.quantity}`],
    [t('result.amount'), formatFen(order.amount)],
    ['out_trade_no', order.outTradeNo, 'out-trade-no', 'number'],
    order.transactionId && [t('result.transaction'), order.transactionId, 'transaction-id', 'number'],
    order.paidAt && [t('result.paidAt'), formatTime(Date.parse(order.paidAt))],
  ].filter(Boolean);
  return h(
    'section',
    { class: 'card order-card' },
    h(
      'div',
      { class: 'order-status-line' },
      h('span', {}, t('result.serverStatus')),
      h(
        'span',
        { class: `badge status-${order.status}`, 'data-testid': 'order-status', 'data-status': order.status },
        t(`status.${order.status}`),
      ),
    ),
    h(
      'dl',
      { class: 'kv' },
      rows.map(([k, v, testid, kind]) => [
        h('dt', {}, k),
        h('dd', { 'data-testid': testid, class: kind === 'number' ? 'long-number' : undefined }, v),
      ]),
    ),
  );
}

const refundedOf = (order) => ({
  refunded: formatFen(order.refunds.filter((r) => r.status === 'SUCCESS').reduce((s, r) => s + r.amount, 0)),
  amount: formatFen(order.amount),
});

/** The order's refunds, oldest first, each with its amount, its state in words and its time. */
function refundList(order, t) {
  const refunds = order.refunds ?? [];
  if (refunds.length === 0) return null;
  return h(
    'section',
    { class: 'card refund-card', 'data-testid': 'refunds' },
    h('h3', { class: 'refund-title' }, t('result.refunds')),
    h(
      'ul',
      { class: 'refund-list' },
      refunds.map((r) =>
        h(
          'li',
          { 'data-testid': 'refund', 'data-status': r.status },
          h('span', { class: 'refund-amount' }, formatFen(r.amount)),
          h(
            'span',
            { class: `badge refund-${r.status}`, 'data-testid': 'refund-status' },
            t(`refund.${r.status}`),
          ),
          h('span', { class: 'refund-time' }, formatTime(Date.parse(r.settledAt ?? r.createdAt))),
        ),
      ),
    ),
  );
}

function button(label, onClick, testid, variant = 'primary') {
  return h('button', { type: 'button', class: `btn btn-${variant}`, 'data-testid': testid, onClick }, label);
}
