/**
 * Webhook endpoints: the list, adding one (its secret shown once), and one endpoint with its
 * latest deliveries and attempts, each event resendable.
 */
import { formatTime, h } from './console-dom.js';

const EVENT_TYPES = [
  'payment.succeeded',
  'payment.closed',
  'payment.review',
  'refund.succeeded',
  'refund.failed',
  'reconciliation.mismatch',
];

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

/** A button that calls the admin API, then re-renders the view (or shows why it failed). */
function action(ctx, label, testid, call, after = refresh) {
  const error = h('span', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'button', testid }, ctx.t(label));
  button.addEventListener('click', async () => {
    try {
      after(await call());
    } catch (err) {
      error.textContent = ctx.t('error', { message: err.message });
    }
  });
  return h('span', {}, button, error);
}

/** The new secret, shown once, with what to do with it. */
function secretBox(t, secret) {
  return h(
    'div',
    { class: 'card secret', testid: 'new-secret' },
    h('p', {}, t('webhooks.secretOnce')),
    h('code', { testid: 'secret-value' }, secret),
  );
}

function createForm(ctx, shown) {
  const { t, api } = ctx;
  const url = h('input', {
    name: 'url',
    type: 'url',
    required: true,
    placeholder: 'https://',
    testid: 'webhook-url',
  });
  const description = h('input', {
    name: 'description',
    maxlength: 200,
    placeholder: t('webhooks.description'),
  });
  const boxes = EVENT_TYPES.map((type) => h('input', { type: 'checkbox', value: type }));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card webhook-form', testid: 'webhook-create' },
    h('h2', {}, t('webhooks.add')),
    h('label', {}, h('span', {}, t('webhooks.url')), url),
    description,
    h(
      'fieldset',
      {},
      h('legend', {}, t('webhooks.types')),
      boxes.map((b) => h('label', {}, b, b.value)),
    ),
    h('button', { type: 'submit', class: 'primary', testid: 'webhook-add' }, t('webhooks.add')),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const created = await api('POST', '/admin/webhooks', {
        url: url.value,
        ...(description.value && { description: description.value }),
        ...(picked.length > 0 && { eventTypes: picked }),
      });
      shown.replaceChildren(secretBox(t, created.secret));
      form.reset();
      await listInto(ctx, document.querySelector('[data-testid="webhook-list"]'));
    } catch (err) {
      error.textContent = t('error', { message: err.message });
    }
  });
  return form;
}

async function listInto(ctx, table) {
  const { t, api } = ctx;
  const { endpoints } = await api('GET', '/admin/webhooks');
  const rows = endpoints.map((e) =>
    h(
      'tr',
      { testid: 'webhook-row' },
      h('td', {}, h('a', { href: `#/webhooks/${encodeURIComponent(e.id)}` }, e.url)),
      h('td', {}, t(`webhooks.status.${e.status}`), e.disabledReason ? ` (${e.disabledReason})` : ''),
      h('td', {}, e.eventTypes.includes('*') ? t('webhooks.allTypes') : e.eventTypes.join(', ')),
      h('td', {}, e.source === 'env' ? 'WEBHOOK_URL' : e.description),
    ),
  );
  table.replaceChildren(
    h(
      'tr',
      {},
      ['webhooks.url', 'col.status', 'webhooks.types', 'webhooks.description'].map((k) => h('th', {}, t(k))),
    ),
    ...rows,
  );
  if (endpoints.length === 0)
    table.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, t('webhooks.empty'))));
}

async function listView(ctx) {
  const shown = h('div', {});
  const table = h('table', { class: 'card', testid: 'webhook-list' });
  ctx.main.append(shown, table, createForm(ctx, shown));
  await listInto(ctx, table);
}

function attemptLine(ctx, a) {
  const outcome = a.statusCode === null ? a.error : `HTTP ${a.statusCode}`;
  return h(
    'li',
    { class: a.ok ? '' : 'failed', testid: 'attempt' },
    `#${a.attempt} · ${formatTime(a.startedAt, ctx.lang)} · ${outcome} · ${a.latencyMs} ms`,
    a.responseBody ? h('pre', {}, a.responseBody) : '',
  );
}

async function endpointView(ctx, id) {
  const { t, api, main, lang } = ctx;
  const { endpoint, deliveries } = await api('GET', `/admin/webhooks/${encodeURIComponent(id)}?limit=50`);
  const shown = h('div', {});
  const post = (path) => () => api('POST', `/admin/webhooks/${encodeURIComponent(id)}/${path}`);
  const buttons = [
    endpoint.status === 'enabled'
      ? action(ctx, 'webhooks.disable', 'webhook-disable', post('disable'))
      : action(ctx, 'webhooks.enable', 'webhook-enable', post('enable')),
  ];
  if (endpoint.source !== 'env') {
    buttons.push(
      action(ctx, 'webhooks.rotate', 'webhook-rotate', post('rotate-secret'), (r) =>
        shown.replaceChildren(secretBox(t, r.secret)),
      ),
      action(
        ctx,
        'webhooks.delete',
        'webhook-delete',
        async () =>
          confirm(t('webhooks.deleteConfirm'))
            ? api('DELETE', `/admin/webhooks/${encodeURIComponent(id)}`)
            : null,
        (r) => {
          if (r) location.hash = '#/webhooks';
        },
      ),
    );
  }
  main.append(
    h('p', {}, h('a', { href: '#/webhooks' }, t('webhooks.back'))),
    h(
      'section',
      { class: 'card', testid: 'webhook-endpoint' },
      h('h2', {}, endpoint.url),
      h('p', {}, `${t(`webhooks.status.${endpoint.status}`)} · ${endpoint.id}`),
      endpoint.previousSecretExpiresAt
        ? h(
            'p',
            { class: 'muted' },
            t('webhooks.oldSecret', { until: formatTime(endpoint.previousSecretExpiresAt, lang) }),
          )
        : '',
      h('div', { class: 'row' }, buttons),
    ),
    shown,
    h('h2', {}, t('webhooks.deliveries')),
    deliveries.length === 0 ? h('p', { class: 'card muted' }, t('webhooks.noDeliveries')) : '',
    ...deliveries.map((d) =>
      h(
        'article',
        { class: 'card', testid: 'delivery' },
        h(
          'div',
          { class: 'tl-head' },
          h('strong', {}, `${d.eventType} · ${d.eventId}`),
          h('span', { class: 'muted' }, `${t(`webhooks.delivery.${d.status}`)} · ${d.attempts}`),
        ),
        d.nextAttemptAt
          ? h('p', { class: 'muted' }, t('webhooks.next', { at: formatTime(d.nextAttemptAt, lang) }))
          : '',
        h(
          'ul',
          {},
          d.recentAttempts.map((a) => attemptLine(ctx, a)),
        ),
        action(ctx, 'webhooks.resend', 'resend', () =>
          api('POST', `/admin/events/${encodeURIComponent(d.eventId)}/resend`, { endpointId: d.endpointId }),
        ),
      ),
    ),
  );
}

export function webhooksView(ctx, parts) {
  return parts.length > 0 ? endpointView(ctx, decodeURIComponent(parts[0])) : listView(ctx);
}
