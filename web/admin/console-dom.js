/**
 * Small DOM helpers for the console. Text always goes in as text (textContent), never as HTML:
 * order descriptions and notification fields come from outside and must not run.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'testid') el.dataset.testid = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Integer fen as yuan text, with integer arithmetic (1999 → ¥19.99). */
export function formatFen(fen) {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}¥${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** "12.5" yuan → 1250 fen, or undefined when it is not an amount with at most two decimals. */
export function yuanToFen(text) {
  const m = /^(\d{1,8})(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  return m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : undefined;
}

/** A time in Beijing, as the console shows every time. */
export function formatTime(iso, lang) {
  if (!iso) return '—';
  const at = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  return at.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false });
}
