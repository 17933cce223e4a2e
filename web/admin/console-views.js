/** Today at a glance (charts by chart.js) and the anomaly queue; every view by its route. */
import { formatFen, formatTime, h } from './console-dom.js';
import { ordersView, orderView } from './console-orders.js';
import { reconciliationsView } from './console-reconciliations.js';
import { webhooksView } from './console-webhooks.js';

const COLORS = ['#07c160', '#1677ff', '#fa8c16', '#f5222d', '#722ed1', '#8c8c8c'];
const charts = [];

function chart(canvas, config) {
  // chart.js is loaded as a classic script (its UMD build) and is on window.Chart.
  charts.push(
    new window.Chart(canvas, {
      ...config,
      options: { animation: false, maintainAspectRatio: false, ...config.options },
    }),
  );
}

async function summaryView(ctx, _parts, query) {
  const { t, api, main } = ctx;
  for (const c of charts.splice(0)) c.destroy();
  const s = await api(
    'GET',
    `/admin/summary${query.get('date') ? `?date=${encodeURIComponent(query.get('date'))}` : ''}`,
  );
  const date = h('input', { type: 'date', value: s.date, name: 'date' });
  date.addEventListener('change', () => (location.hash = `#/summary?date=${date.value}`));
  const tile = (label, value, testid) =>
    h('div', { class: 'tile', testid }, h('span', { class: 'muted' }, t(label)), h('strong', {}, value));
  const canvas = () => h('canvas', {});
  const [flow, notes, statuses] = [canvas(), canvas(), canvas()];
  const refusedKinds = Object.keys(s.notifications.refused);
  const otherAnomalies = Object.keys(s.anomalies).filter((k) => !(k in s.notifications.refused));
  main.append(
    h(
      'div',
      { class: 'card row' },
      h('label', {}, h('span', {}, t('summary.date')), date),
      h('p', { class: 'muted small' }, t('summary.source')),
    ),
    h(
      'div',
      { class: 'tiles' },
      tile('summary.paidAmount', formatFen(s.paid.amount), 'tile-paid-amount'),
      tile('summary.paid', s.paid.count, 'tile-paid'),
      tile('summary.refunds', `${s.refunds.count} · ${formatFen(s.refunds.amount)}`, 'tile-refunds'),
      tile('summary.pending', s.pending, 'tile-pending'),
      tile('summary.created', s.created, 'tile-created'),
    ),
    h(
      'div',
      { class: 'charts' },
      h(
        'figure',
        { class: 'card' },
        h('figcaption', {}, t('nav.orders')),
        h('div', { class: 'chart' }, flow),
      ),
      h(
        'figure',
        { class: 'card' },
        h('figcaption', {}, t('summary.notifications')),
        h('div', { class: 'chart' }, notes),
      ),
      h(
        'figure',
        { class: 'card' },
        h('figcaption', {}, t('summary.statuses')),
        h('div', { class: 'chart' }, statuses),
      ),
    ),
  );
  chart(flow, {
    type: 'bar',
    data: {
      labels: [t('summary.created'), t('summary.paid'), t('summary.pending'), t('summary.refunds')],
      datasets: [{ data: [s.created, s.paid.count, s.pending, s.refunds.count], backgroundColor: COLORS }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  chart(notes, {
    type: 'bar',
    data: {
      labels: [
        t('summary.accepted'),
        ...refusedKinds.map((k) => `${t('summary.refused')}: ${k}`),
        ...otherAnomalies.map((k) => `${t('summary.flagged')}: ${k}`),
      ],
      datasets: [
        {
          data: [
            s.notifications.accepted,
            ...refusedKinds.map((k) => s.notifications.refused[k]),
            ...otherAnomalies.map((k) => s.anomalies[k]),
          ],
          backgroundColor: [
            COLORS[0],
            ...refusedKinds.map(() => COLORS[3]),
            ...otherAnomalies.map(() => COLORS[2]),
          ],
        },
      ],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  const statusNames = Object.keys(s.statuses);
  chart(statuses, {
    type: 'doughnut',
    data: {
      labels: statusNames.map((k) => t(`status.${k}`)),
      datasets: [{ data: statusNames.map((k) => s.statuses[k]), backgroundColor: COLORS }],
    },
    options: { plugins: { legend: { position: 'right' } } },
  });
}

function anomalyCard(ctx, a) {
  const { t, api, lang } = ctx;
  const note = h('input', {
    name: 'note',
    required: true,
    maxlength: 1000,
    placeholder: t('anomalies.note'),
    testid: 'resolve-note',
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'resolve' },
    note,
    h('button', { type: 'submit', class: 'primary', testid: 'resolve' }, t('anomalies.resolve')),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/admin/anomalies/${a.id}/resolve`, { note: note.value });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      error.textContent = t('error', { message: err.message });
    }
  });
  return h(
    'article',
    { class: 'card anomaly', testid: 'anomaly' },
    h(
      'div',
      { class: 'tl-head' },
      h('strong', {}, a.kind),
      h('span', { class: 'muted' }, formatTime(a.createdAt, lang)),
    ),
    h('p', {}, a.orderId ? h('a', { href: `#/orders/${encodeURIComponent(a.orderId)}` }, a.ref) : a.ref),
    h('pre', {}, JSON.stringify(a.data, null, 2)),
    a.resolvedAt
      ? h(
          'p',
          { class: 'muted' },
          `${t('anomalies.resolved', { who: a.resolvedBy })} · ${formatTime(a.resolvedAt, lang)} · ${a.resolutionNote}`,
        )
      : form,
  );
}

async function anomaliesView(ctx, _parts, query) {
  const { t, api, main } = ctx;
  const state = query.get('state') === 'all' ? 'all' : 'open';
  const toggle = h('input', { type: 'checkbox', checked: state === 'all' });
  toggle.addEventListener(
    'change',
    () => (location.hash = toggle.checked ? '#/anomalies?state=all' : '#/anomalies'),
  );
  // A reconciliation finding links here by its kind (`?kind=bill_amount_mismatch`).
  const kind = query.get('kind');
  const { anomalies } = await api(
    'GET',
    `/admin/anomalies?state=${state}&limit=200${kind ? `&kind=${encodeURIComponent(kind)}` : ''}`,
  );
  main.append(
    h('label', { class: 'card row' }, toggle, h('span', {}, t('anomalies.showResolved'))),
    ...(anomalies.length === 0
      ? [h('p', { class: 'card muted', testid: 'anomalies-empty' }, t('anomalies.empty'))]
      : anomalies.map((a) => anomalyCard(ctx, a))),
  );
}

export const views = {
  summary: summaryView,
  orders: (ctx, parts, query) => (parts.length > 0 ? orderView(ctx, parts) : ordersView(ctx, parts, query)),
  anomalies: anomaliesView,
  reconciliations: reconciliationsView,
  webhooks: webhooksView,
};
