/** The orders list (filters, paging, CSV export) and one order's page (timeline, refunds, refund button). */
import { formatFen, formatTime, h, yuanToFen } from './console-dom.js';

const STATUSES = ['PENDING', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'CLOSED', 'REVIEW'];
const LIMIT = 20;

function statusBadge(t, status) {
  return h('span', { class: `badge s-${status}` }, t(`status.${status}`));
}

/** The filter form's values as API query parameters (amounts in yuan become fen). */
function toApiQuery(form) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    const value = String(v).trim();
    if (!value) continue;
    if (k === 'minAmount' || k === 'maxAmount') {
      const fen = yuanToFen(value);
      q.set(k, fen === undefined ? value : String(fen));
    } else q.set(k, value);
  }
  return q;
}

export async function ordersView(ctx, _parts, query) {
  const { t, api, main, lang } = ctx;
  const field = (name, label, attrs = {}) =>
    h('label', {}, h('span', {}, t(label)), h('input', { name, value: query.get(name) ?? '', ...attrs }));
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, t('orders.any')),
    STATUSES.map((s) => h('option', { value: s, selected: query.get('status') === s }, t(`status.${s}`))),
  );
  const form = h(
    'form',
    { class: 'filters card', testid: 'order-filters' },
    h('label', {}, h('span', {}, t('orders.status')), status),
    field('from', 'orders.from', { type: 'date' }),
    field('to', 'orders.to', { type: 'date' }),
    field('minAmount', 'orders.minAmount', { inputmode: 'decimal', size: 8 }),
    field('maxAmount', 'orders.maxAmount', { inputmode: 'decimal', size: 8 }),
    field('out_trade_no', 'orders.outTradeNo', { testid: 'filter-out-trade-no' }),
    field('transaction_id', 'orders.transactionId'),
    h('button', { type: 'submit', class: 'primary' }, t('orders.search')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/orders?${new URLSearchParams([...new FormData(form)].filter(([, v]) => v))}`;
  });
  main.append(form);

  const apiQuery = toApiQuery(form);
  const page = Number(query.get('page') ?? 1);
  const exportLink = h(
    'a',
    { class: 'button', href: `/admin/orders.csv?${apiQuery}`, download: 'orders.csv' },
    t('orders.export'),
  );
  apiQuery.set('page', String(page));
  apiQuery.set('limit', String(LIMIT));
  const data = await api('GET', `/admin/orders?${apiQuery}`);

  const rows = data.orders.map((o) =>
    h(
      'tr',
      { testid: 'order-row' },
      h('td', {}, h('a', { href: `#/orders/${encodeURIComponent(o.id)}` }, o.outTradeNo)),
      h('td', {}, statusBadge(t, o.status)),
      h('td', { class: 'num' }, formatFen(o.amount)),
      h('td', {}, o.description),
      h('td', {}, formatTime(o.createdAt, lang)),
      h('td', {}, formatTime(o.paidAt, lang)),
    ),
  );
  const pageTo = (n) => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    return `#/orders?${q}`;
  };
  const last = Math.max(1, Math.ceil(data.total / LIMIT));
  main.append(
    h(
      'section',
      { class: 'card' },
      rows.length === 0
        ? h('p', { class: 'muted' }, t('orders.empty'))
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'col.outTradeNo',
                  'col.status',
                  'col.amount',
                  'col.description',
                  'col.createdAt',
                  'col.paidAt',
                ].map((k) => h('th', {}, t(k))),
              ),
            ),
            h('tbody', {}, rows),
          ),
      h(
        'div',
        { class: 'pager' },
        page > 1 ? h('a', { class: 'button', href: pageTo(page - 1) }, t('orders.prev')) : null,
        h('span', { class: 'muted' }, t('orders.page', { page, total: data.total })),
        page < last ? h('a', { class: 'button', href: pageTo(page + 1) }, t('orders.next')) : null,
        h('span', { class: 'spacer' }),
        exportLink,
      ),
    ),
  );
}

function timelineItem(ctx, entry) {
  const label = entry.kind === 'event' ? entry.type : `${entry.kind}: ${entry.type}`;
  return h(
    'li',
    { class: `tl-${entry.kind}` },
    h(
      'div',
      { class: 'tl-head' },
      h('strong', {}, label),
      h('span', { class: 'muted' }, formatTime(entry.at, ctx.lang)),
    ),
    h('pre', {}, JSON.stringify(entry.data, null, 2)),
  );
}

function refundForm(ctx, order, onDone) {
  const { t, api } = ctx;
  const message = h('p', { class: 'muted', role: 'status' });
  const form = h(
    'form',
    { class: 'refund', testid: 'refund-form' },
    h(
      'label',
      {},
      h('span', {}, t('order.refundAmount')),
      h('input', {
        name: 'amount',
        inputmode: 'decimal',
        required: true,
        value: formatFen(order.amount).slice(1),
      }),
    ),
    h('label', {}, h('span', {}, t('order.refundReason')), h('input', { name: 'reason', maxlength: 80 })),
    h('button', { type: 'submit', class: 'danger' }, t('order.refund')),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const amount = yuanToFen(data.get('amount'));
    if (!amount) return;
    if (!window.confirm(t('order.refundConfirm', { amount: formatFen(amount) }))) return;
    try {
      await api(
        'POST',
        `/admin/orders/${encodeURIComponent(order.id)}/refunds`,
        { amount, reason: String(data.get('reason')) },
        { 'idempotency-key': crypto.randomUUID() },
      );
      message.textContent = t('order.refundDone');
      onDone();
    } catch (err) {
      message.textContent = t('order.refundFailed', { message: err.message });
    }
  });
  return form;
}

export async function orderView(ctx, parts) {
  const { t, api, main, lang } = ctx;
  const { order, timeline, refunds } = await api('GET', `/admin/orders/${encodeURIComponent(parts[0])}`);
  const facts = [
    ['col.status', statusBadge(t, order.status)],
    ['col.amount', formatFen(order.amount)],
    ['col.description', order.description],
    ['order.transactionId', order.transactionId ?? '—'],
    ['order.openid', order.openid],
    ['col.createdAt', formatTime(order.createdAt, lang)],
    ['col.paidAt', formatTime(order.paidAt, lang)],
  ];
  main.append(
    h('a', { href: '#/orders', class: 'back' }, t('order.back')),
    h(
      'section',
      { class: 'card', testid: 'order-page' },
      h('h1', {}, t('order.heading', { no: order.outTradeNo })),
      h(
        'dl',
        { class: 'facts' },
        facts.map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('order.refunds')),
      refunds.length === 0
        ? h('p', { class: 'muted' }, t('order.noRefunds'))
        : h('pre', {}, JSON.stringify(refunds, null, 2)),
      ['PAID', 'PARTIALLY_REFUNDED'].includes(order.status)
        ? refundForm(ctx, order, () => window.dispatchEvent(new HashChangeEvent('hashchange')))
        : null,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('order.timeline')),
      h(
        'ol',
        { class: 'timeline', testid: 'timeline' },
        timeline.map((e) => timelineItem(ctx, e)),
      ),
    ),
  );
}
