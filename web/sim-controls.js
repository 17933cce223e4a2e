/**
 * The simulator's fault switches and clock, in the page, so a person can break WeChat on purpose
 * and watch the service recover. The simulator is the only source of truth: the switches and the
 * list are drawn from `GET /sim/faults` (on load, after a reload, after every change), and the
 * clock line from `GET /sim/clock`. Switching a fault off deletes exactly the rules it stands
 * for (`DELETE /sim/faults/:id`); nothing is re-created behind the person's back.
 */
import { h, replaceChildren } from './dom.js';
import { describeFault, formatOffset } from './sim-words.js';
import { clockEntry, errorEntry, faultEntry, systemErrorUsedEntry } from './timeline-entries.js';

/** The switches, and the merchant-wide rule each one stands for. */
const TOGGLES = {
  drop: { fault: 'NOTIFY_DROP' },
  duplicate: { fault: 'NOTIFY_DUPLICATE', params: { copies: 3 } },
};
const NEXT_ORDER_FAILS = { fault: 'SYSTEMERROR', api: 'unifiedorder', times: 1 };

/** A rule a switch stands for: that fault, for the whole merchant, on every call. */
const isToggleRule = (rule, name) =>
  rule.fault === TOGGLES[name].fault && !rule.out_trade_no && !rule.api && rule.times === null;

export function createSimControls({ root, simulatorUrl, i18n, timeline, onExpireSession }) {
  const sim = new URL(simulatorUrl).origin;
  const activeList = root.querySelector('[data-testid="faults-active"]');
  const clockLine = root.querySelector('[data-testid="clock-offset"]');
  let faults = [];
  let clock = null;

  async function simCall(method, path, body) {
    const res = await fetch(`${sim}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok)
      throw Object.assign(new Error(data.message ?? data.error ?? `HTTP ${res.status}`), { code: data.code });
    return data;
  }

  function toggle(name) {
    return root.querySelector(`[data-fault-toggle="${name}"]`);
  }

  function draw() {
    for (const name of Object.keys(TOGGLES)) {
      toggle(name).checked = faults.some((f) => isToggleRule(f, name));
    }
    replaceChildren(
      activeList,
      faults.length === 0
        ? h('li', { class: 'muted' }, i18n.t('sim.noFaults'))
        : faults.map((f) =>
            h(
              'li',
              { 'data-fault': f.fault },
              h('span', {}, describeFault(f, i18n.t)),
              h(
                'button',
                {
                  type: 'button',
                  class: 'link-button',
                  'data-testid': `fault-undo-${f.fault}`,
                  onClick: () => guarded(f.fault, () => removeRule(f)),
                },
                i18n.t('sim.undo'),
              ),
            ),
          ),
    );
    clockLine.textContent = clock ? formatOffset(clock.offset_ms, i18n.t) : '…';
    clockLine.dataset.offsetMs = clock ? String(clock.offset_ms) : '';
    root.querySelector('[data-testid="clock-reset"]').disabled = !clock || clock.offset_ms === 0;
  }

  async function refresh() {
    const [f, c] = await Promise.allSettled([simCall('GET', '/sim/faults'), simCall('GET', '/sim/clock')]);
    if (f.status === 'fulfilled') faults = f.value.faults ?? [];
    if (c.status === 'fulfilled') clock = c.value;
    draw();
    return f.status === 'fulfilled' ? faults : null;
  }

  async function addRule(spec) {
    await simCall('POST', '/sim/faults', spec);
    timeline.add(faultEntry('on', spec));
  }

  async function removeRule(rule) {
    await simCall('DELETE', `/sim/faults/${encodeURIComponent(rule.id)}`);
    timeline.add(faultEntry('off', rule));
  }

  async function guarded(what, action) {
    try {
      await action();
    } catch (err) {
      timeline.add(errorEntry(what, err));
    }
    await refresh();
  }

  for (const name of Object.keys(TOGGLES)) {
    toggle(name).addEventListener('change', (event) => {
      const on = event.target.checked;
      guarded(TOGGLES[name].fault, async () => {
        if (on) return addRule({ ...TOGGLES[name], times: null });
        for (const rule of faults.filter((f) => isToggleRule(f, name))) await removeRule(rule);
      });
    });
  }
  root
    .querySelector('[data-testid="fault-next-order-fails"]')
    .addEventListener('click', () => guarded('SYSTEMERROR', () => addRule(NEXT_ORDER_FAILS)));
  root.querySelector('[data-testid="faults-clear"]').addEventListener('click', () =>
    guarded('DELETE /sim/faults', async () => {
      await simCall('DELETE', '/sim/faults');
      timeline.add(faultEntry('clear'));
    }),
  );
  root.querySelector('[data-testid="clock-advance"]').addEventListener('click', () =>
    guarded('POST /sim/clock/advance', async () => {
      clock = await simCall('POST', '/sim/clock/advance', { seconds: 60 });
      timeline.add(clockEntry('advance', clock));
    }),
  );
  root.querySelector('[data-testid="clock-reset"]').addEventListener('click', () =>
    guarded('POST /sim/clock/reset', async () => {
      clock = await simCall('POST', '/sim/clock/reset');
      timeline.add(clockEntry('reset', clock));
    }),
  );
  root.querySelector('[data-testid="expire-session"]').addEventListener('click', onExpireSession);
  i18n.onChange(draw);

  refresh();
  return {
    /**
     * The one-shot SYSTEMERROR is used up by the next unified order. The service retries it
     * inside one request, so the page learns of it from the simulator: the rule is gone.
     */
    async orderCreated(order) {
      const armed = faults.some((f) => f.fault === NEXT_ORDER_FAILS.fault && f.api === NEXT_ORDER_FAILS.api);
      const now = await refresh();
      if (armed && now && !now.some((f) => f.fault === NEXT_ORDER_FAILS.fault)) {
        timeline.add(systemErrorUsedEntry(order));
      }
    },
    refresh,
  };
}
