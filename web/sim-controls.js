/**
 * The simulator's fault switches, in the page, so a person can break WeChat on purpose and
 * watch the service recover. Faults are set for the whole simulated merchant (no
 * out_trade_no), so they apply to the next order. The simulator only offers "clear all", so
 * switching one fault off clears them all and sets the remaining ones again.
 */
import { h, replaceChildren } from './dom.js';
import { errorEntry, faultEntry, systemErrorUsedEntry } from './timeline-entries.js';

const TOGGLES = {
  drop: { fault: 'NOTIFY_DROP' },
  duplicate: { fault: 'NOTIFY_DUPLICATE', params: { copies: 3 } },
};
const NEXT_ORDER_FAILS = { fault: 'SYSTEMERROR', api: 'unifiedorder', times: 1 };

export function createSimControls({ root, simulatorUrl, i18n, timeline, onExpireSession }) {
  const sim = new URL(simulatorUrl).origin;
  const activeList = root.querySelector('[data-testid="faults-active"]');
  let nextOrderFailsArmed = false;

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

  async function setFault(spec) {
    await simCall('POST', '/sim/faults', spec);
    timeline.add(faultEntry(`POST /sim/faults ${JSON.stringify(spec)}`));
  }

  async function refreshActive() {
    try {
      const data = await simCall('GET', '/sim/faults');
      const faults = Array.isArray(data) ? data : (data.faults ?? []);
      replaceChildren(
        activeList,
        faults.length === 0
          ? h('li', { class: 'muted', 'data-i18n': 'sim.noFaults' })
          : faults.map((f) => h('li', {}, describe(f))),
      );
      i18n.apply(activeList);
      return faults;
    } catch {
      // The list is informative only; the switches stay usable without it.
      return null;
    }
  }

  async function resync() {
    await simCall('DELETE', '/sim/faults');
    timeline.add(faultEntry('DELETE /sim/faults'));
    for (const [name, spec] of Object.entries(TOGGLES)) {
      if (toggle(name).checked) await setFault(spec);
    }
    if (nextOrderFailsArmed) await setFault(NEXT_ORDER_FAILS);
  }

  function toggle(name) {
    return root.querySelector(`[data-fault-toggle="${name}"]`);
  }

  async function guarded(what, action, revert) {
    try {
      await action();
    } catch (err) {
      revert?.();
      timeline.add(errorEntry(what, err));
    }
    await refreshActive();
  }

  for (const name of Object.keys(TOGGLES)) {
    const box = toggle(name);
    box.addEventListener('change', () =>
      guarded(
        TOGGLES[name].fault,
        () => (box.checked ? setFault(TOGGLES[name]) : resync()),
        () => {
          box.checked = !box.checked;
        },
      ),
    );
  }
  root.querySelector('[data-testid="fault-next-order-fails"]').addEventListener('click', () =>
    guarded('SYSTEMERROR', async () => {
      await setFault(NEXT_ORDER_FAILS);
      nextOrderFailsArmed = true;
    }),
  );
  root.querySelector('[data-testid="faults-clear"]').addEventListener('click', () =>
    guarded('DELETE /sim/faults', async () => {
      for (const name of Object.keys(TOGGLES)) toggle(name).checked = false;
      nextOrderFailsArmed = false;
      await resync();
    }),
  );
  root.querySelector('[data-testid="clock-advance"]').addEventListener('click', () =>
    guarded('clock', async () => {
      const data = await simCall('POST', '/sim/clock/advance', { seconds: 60 });
      timeline.add(faultEntry(`POST /sim/clock/advance {"seconds":60}${data.now ? ` → ${data.now}` : ''}`));
    }),
  );
  root.querySelector('[data-testid="expire-session"]').addEventListener('click', onExpireSession);

  refreshActive();
  return {
    /**
     * The one-shot SYSTEMERROR is used up by the next unified order. The service retries it
     * inside one request, so the page learns of it from the simulator: the rule is gone.
     */
    async orderCreated(order) {
      const wasArmed = nextOrderFailsArmed;
      nextOrderFailsArmed = false;
      const faults = await refreshActive();
      if (wasArmed && faults && !faults.some((f) => f.fault === NEXT_ORDER_FAILS.fault)) {
        timeline.add(systemErrorUsedEntry(order));
      }
    },
    refresh: refreshActive,
  };
}

function describe(f) {
  const scope = [
    f.api && `api=${f.api}`,
    f.out_trade_no && `out_trade_no=${f.out_trade_no}`,
    f.times && `×${f.times}`,
  ];
  const params = f.params && Object.keys(f.params).length > 0 ? ` ${JSON.stringify(f.params)}` : '';
  return `${f.fault ?? JSON.stringify(f)} ${scope.filter(Boolean).join(' ')}${params}`.trim();
}
