/**
 * The "behind the scenes" panel: one entry per step of the exchange between the phone, the
 * service and the simulated WeChat, in the order the page learned of it. Each entry keeps its
 * data and a render function, so switching language redraws it, and entries with a key (a
 * notification attempt, a service event) are updated in place instead of repeated.
 *
 * @example
 * const timeline = createTimeline(listEl, i18n);
 * timeline.add({ key: 'evt:1', tone: 'ok', title: (t) => t('tl.login'), rows: (t) => [['code', '0a1…']] });
 */
import { h, replaceChildren } from './dom.js';

export function createTimeline(listEl, i18n) {
  const entries = [];
  const byKey = new Map();

  function render(entry) {
    const t = i18n.t;
    const rows = entry.rows?.(t) ?? [];
    const node = h(
      'li',
      { class: `tl-entry tone-${entry.tone ?? 'info'}`, 'data-kind': entry.kind ?? '' },
      h(
        'div',
        { class: 'tl-head' },
        h('span', { class: 'tl-time' }, entry.time),
        h('span', { class: 'tl-actor' }, entry.actor ? t(`actor.${entry.actor}`) : ''),
      ),
      h('div', { class: 'tl-title' }, entry.title(t)),
      rows.length > 0 &&
        h(
          'dl',
          { class: 'tl-rows' },
          rows.map(([label, value]) => [
            h('dt', {}, label),
            // A transaction number is compared digit by digit: it never wraps mid-number.
            h('dd', { class: /^\d{16,}$/.test(String(value)) ? 'long-number' : undefined }, value),
          ]),
        ),
      entry.note && h('p', { class: 'tl-note' }, entry.note(t)),
    );
    entry.node?.replaceWith(node);
    entry.node = node;
    return node;
  }

  return {
    /** Adds an entry, or redraws the one with the same key when its content changed. */
    add(entry) {
      const existing = entry.key ? byKey.get(entry.key) : undefined;
      if (existing) {
        if (existing.signature === entry.signature) return;
        Object.assign(existing, { ...entry, time: existing.time });
        render(existing);
        return;
      }
      const full = { ...entry, time: clockTime() };
      entries.push(full);
      if (entry.key) byKey.set(entry.key, full);
      listEl.append(render(full));
      listEl.parentElement?.scrollTo?.({ top: listEl.scrollHeight, behavior: 'smooth' });
    },
    rerender() {
      replaceChildren(listEl, entries.map(render));
    },
    clear() {
      entries.length = 0;
      byKey.clear();
      replaceChildren(listEl);
    },
  };
}

function clockTime() {
  const d = new Date();
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
