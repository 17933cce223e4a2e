/** Daily reconciliation: the stored reports, one report with its findings, and a run on demand. */
import { formatFen, formatTime, h } from './console-dom.js';

const badge = (t, status) =>
  h('span', { class: `badge r-${status}`, testid: 'report-status' }, t(`recon.${status}`));

/** The Beijing date `days` before today, YYYY-MM-DD. */
function beijingDaysAgo(days) {
  return new Date(Date.now() + 8 * 3600_000 - days * 86_400_000).toISOString().slice(0, 10);
}

function runForm(ctx) {
  const { t, api } = ctx;
  const date = h('input', { type: 'date', name: 'date', value: beijingDaysAgo(1), required: true });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('recon.run'));
  const form = h(
    'form',
    { class: 'card row', testid: 'reconcile-form' },
    h('label', {}, h('span', {}, t('recon.date')), date),
    button,
    h('p', { class: 'muted small' }, t('recon.runHelp')),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = t('recon.running');
    try {
      await api('POST', '/admin/reconciliations', { date: date.value });
      location.hash = `#/reconciliations/${date.value}`;
    } catch (err) {
      error.textContent = t('error', { message: err.message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function listView(ctx) {
  const { t, api, main, lang } = ctx;
  const { reports } = await api('GET', '/admin/reconciliations?limit=100');
  const rows = reports.map((r) =>
    h(
      'tr',
      { testid: 'reconciliation-row' },
      h('td', {}, h('a', { href: `#/reconciliations/${r.billDate}` }, r.billDate)),
      h('td', {}, badge(t, r.status)),
      h('td', { class: 'num' }, `${r.summary.counts.needPerson} / ${r.summary.counts.findings}`),
      h('td', { class: 'num' }, formatFen(r.summary.bill.payments.amount)),
      h('td', {}, formatTime(r.updatedAt ?? r.createdAt, lang)),
    ),
  );
  main.append(
    runForm(ctx),
    h(
      'section',
      { class: 'card' },
      reports.length === 0
        ? h('p', { class: 'muted', testid: 'reconciliations-empty' }, t('reconciliations.empty'))
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['recon.billDate', 'col.status', 'recon.needPerson', 'recon.billPaid', 'recon.ranAt'].map(
                  (k) => h('th', {}, t(k)),
                ),
              ),
            ),
            h('tbody', {}, rows),
          ),
    ),
  );
}

const sideText = (side) =>
  side
    ? Object.entries(side)
        .filter(([k]) => k !== 'line')
        .map(([k, v]) => `${k}: ${k === 'amount' ? formatFen(v) : (v ?? '—')}`)
        .join(', ')
    : '—';

function findingRow(t, f) {
  const anomaly = f.anomalyId
    ? h('a', { href: `#/anomalies?state=all&kind=${encodeURIComponent(f.kind)}` }, `#${f.anomalyId}`)
    : '—';
  return h(
    'tr',
    { testid: 'finding', class: f.needsPerson ? 'needs-person' : '' },
    h('td', {}, f.needsPerson ? '✗' : '✓'),
    h('td', {}, h('strong', {}, t(`finding.${f.kind}`)), h('div', { class: 'muted small' }, f.kind)),
    h('td', {}, f.orderId ? h('a', { href: `#/orders/${encodeURIComponent(f.orderId)}` }, f.ref) : f.ref),
    h('td', {}, sideText(f.bill)),
    h('td', {}, sideText(f.ours)),
    h('td', {}, f.action ? `${t(`recon.${f.action}`)} → ${f.after}` : (f.after ?? '')),
    h('td', {}, anomaly),
  );
}

async function reportView(ctx, date) {
  const { t, api, main, lang } = ctx;
  const { report } = await api('GET', `/admin/reconciliations/${encodeURIComponent(date)}`);
  const r = report.summary;
  const tile = (label, totals) =>
    h(
      'div',
      { class: 'tile' },
      h('span', { class: 'muted' }, t(label)),
      h('strong', {}, `${totals.count} · ${formatFen(totals.amount)}`),
    );
  main.append(
    h(
      'div',
      { class: 'card row' },
      h('a', { class: 'button', href: '#/reconciliations' }, t('recon.back')),
      h('strong', {}, `${t('recon.billDate')} ${r.billDate} · API ${r.apiVersion}`),
      badge(t, report.status),
      h('span', { class: 'muted' }, formatTime(report.updatedAt ?? report.createdAt, lang)),
    ),
    h(
      'div',
      { class: 'tiles' },
      tile('recon.billPayments', r.bill.payments),
      tile('recon.ourPayments', r.ours.payments),
      tile('recon.billRefunds', r.bill.refunds),
      tile('recon.ourRefunds', r.ours.refunds),
    ),
    h(
      'section',
      { class: 'card' },
      r.findings.length === 0
        ? h('p', { class: 'muted', testid: 'findings-empty' }, t('recon.noFindings'))
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
                  '',
                  'recon.finding',
                  'recon.ref',
                  'recon.bill',
                  'recon.ours',
                  'recon.action',
                  'recon.anomaly',
                ].map((k) => h('th', {}, k ? t(k) : '')),
              ),
            ),
            h(
              'tbody',
              {},
              r.findings.map((f) => findingRow(t, f)),
            ),
          ),
    ),
  );
}

export function reconciliationsView(ctx, parts) {
  return parts.length > 0 ? reportView(ctx, parts[0]) : listView(ctx);
}
