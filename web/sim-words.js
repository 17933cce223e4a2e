/**
 * The simulator's faults and clock in words, in the page's language: what a fault does, how
 * long it lasts, how far the simulated clock runs ahead. No rule is shown as raw JSON.
 *
 * @example
 * describeFault({ fault: 'NOTIFY_DROP', times: null, params: {} }, t);
 * // '丢弃支付通知 · 持续有效，直到关闭'
 */

/** The fault's name in words; an unknown one (set from outside the page) keeps its code. */
export function faultName(rule, t) {
  const key = `fault.${rule.fault}`;
  const name = t(key);
  return name === key ? rule.fault : name;
}

/** What the rule does and how long it lasts. */
export function describeFault(rule, t) {
  const copies = Number(rule.params?.copies ?? 2);
  const what =
    rule.fault === 'NOTIFY_DUPLICATE' ? t('fault.NOTIFY_DUPLICATE', { copies }) : faultName(rule, t);
  const scope = [
    rule.api && t('sim.onApi', { api: rule.api }),
    rule.out_trade_no && t('sim.onOrder', { outTradeNo: rule.out_trade_no }),
  ].filter(Boolean);
  const lasts = rule.times === null ? t('sim.lastsUntilOff') : t('sim.lastsTimes', { times: rule.times });
  return [what, ...scope, lasts].join(' · ');
}

/** `offset_ms` of GET /sim/clock as "60 s ahead of real time". */
export function formatOffset(offsetMs, t) {
  const seconds = Math.round(offsetMs / 1000);
  if (seconds === 0) return t('sim.clockInSync');
  const m = Math.floor(Math.abs(seconds) / 60);
  const s = Math.abs(seconds) % 60;
  const amount = m > 0 ? t('sim.minSec', { m, s }) : t('sim.sec', { s });
  return t(seconds > 0 ? 'sim.clockAhead' : 'sim.clockBehind', { amount });
}
