/**
 * Chinese and English labels. Chinese is the default, as in a real mini program; `?lang=en`
 * (or the switch in the top bar) shows English. Parameters are `{name}` placeholders.
 *
 * @example
 * const i18n = createI18n('en');
 * i18n.t('result.amount', { amount: '¥12.00' });
 */
import { MESSAGES } from './messages.js';

export const LANGS = ['zh', 'en'];

export function createI18n(requested) {
  let lang = LANGS.includes(requested) ? requested : 'zh';
  const listeners = new Set();
  const i18n = {
    get lang() {
      return lang;
    },
    t(key, params = {}) {
      const text = MESSAGES[lang][key] ?? MESSAGES.zh[key] ?? key;
      return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    },
    /** Fills every `[data-i18n]` element under root with its label. */
    apply(root) {
      document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
      for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = i18n.t(el.dataset.i18n);
    },
    set(next) {
      if (!LANGS.includes(next) || next === lang) return;
      lang = next;
      for (const fn of listeners) fn(lang);
    },
    onChange(fn) {
      listeners.add(fn);
    },
  };
  return i18n;
}

/**
 * Money is integer fen end to end; it becomes yuan only here, as text, with integer
 * arithmetic so 1999 fen is "¥19.99" and never "¥19.990000000000002".
 */
export function formatFen(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `oUpF8uMuAJO_M2pxb1Q9zNjWeS6o` → `oUpF8u…eS6o`: enough to tell users apart, not to copy. */
export function maskOpenid(openid) {
  if (typeof openid !== 'string' || openid.length < 12) return '…';
  return `${openid.slice(0, 6)}…${openid.slice(-4)}`;
}

/**
 * A moment as `2026-12-02 14:05:09 UTC+8`, in the browser's zone with the zone written out, so
 * it reads the same to everyone (no 12/02 vs 02/12, no AM/PM).
 */
export function formatTime(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const offset = -d.getTimezoneOffset();
  const hours = Math.trunc(Math.abs(offset) / 60);
  const minutes = Math.abs(offset) % 60;
  const zone =
    offset === 0 ? 'UTC' : `UTC${offset > 0 ? '+' : '-'}${hours}${minutes ? `:${pad(minutes)}` : ''}`;
  return `${date} ${time} ${zone}`;
}
