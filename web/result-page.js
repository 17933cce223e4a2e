/**
 * The order-result screen. What it says is a function of two things: the order status the
 * server reported (PAID, CLOSED, …) and, while the order is still PENDING, what the phone
 * knows (cashier open, cancelled, failed, waiting for confirmation). "支付成功" is drawn only
 * for `order.status === 'PAID'`.
 */
import { h, replaceChildren } from './dom.js';
import { formatFen } from './i18n.js';

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
  const summary = orderSummary(order, t, i18n.lang === 'zh' ? 'zh-CN' : 'en-GB');
  const back = button(t('action.back'), actions.back, 'back', 'ghost');
  switch (order.status) {
    case 'PAID':
      return [hero('ok', t('result.paid'), formatFen(order.amount)), summary, back];
    case 'CLOSED':
      return [hero('muted', t('result.closed'), t('result.closedNote')), summary, back];
    case 'REVIEW':
      return [hero('bad', t('result.review'), t('result.reviewNote')), summary, back];
    case 'REFUNDED':
      return [hero('muted', t('result.refunded')), summary, back];
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

function hero(tone, title, subtitle) {
  const icon = { ok: '✓', bad: '✕', warn: '!', busy: '', muted: '·' }[tone];
  return h(
    'div',
    { class: `hero tone-${tone}`, 'data-testid': 'result-hero', 'data-tone': tone },
    h('div', { class: tone === 'busy' ? 'spinner' : 'hero-icon', 'aria-hidden': 'true' }, icon),
    h('h2', { class: 'hero-title', 'data-testid': 'result-title' }, title),
    subtitle && h('p', { class: 'hero-sub', 'data-testid': 'result-sub' }, subtitle),
  );
}

function orderSummary(order, t, locale) {
  const rows = [
    [t('result.item'), `${order.description} × ${order.quantity}`],
    [t('result.amount'), formatFen(order.amount)],
    ['out_trade_no', order.outTradeNo, 'out-trade-no'],
    order.transactionId && [t('result.transaction'), order.transactionId, 'transaction-id'],
    order.paidAt && [t('result.paidAt'), new Date(order.paidAt).toLocaleString(locale)],
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
      rows.map(([k, v, testid]) => [h('dt', {}, k), h('dd', { 'data-testid': testid }, v)]),
    ),
  );
}

function button(label, onClick, testid, variant = 'primary') {
  return h('button', { type: 'button', class: `btn btn-${variant}`, 'data-testid': testid, onClick }, label);
}
