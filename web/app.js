/**
 * The demo's composition root: reads the demo config, builds the wx shim, the service client,
 * the two screens and the side panel, and logs in as a mini program does on launch.
 *
 * URL options: `?lang=en` for English; `?confirm=SECONDS` for how long the result screen
 * waits for the server to confirm before it offers "I paid, check" (default 10).
 */
import { createCheckout } from './checkout.js';
import { createI18n } from './i18n.js';
import { createResultPage } from './result-page.js';
import { createServiceApi } from './service-api.js';
import { createShopPage } from './shop-page.js';
import { createSimControls } from './sim-controls.js';
import { createTimeline } from './timeline.js';
import { errorEntry, loginEntry, reloginEntry, wxLoginEntry } from './timeline-entries.js';
import { createWx } from './wx-shim.js';

const params = new URLSearchParams(location.search);
const i18n = createI18n(params.get('lang') ?? undefined);
const $ = (id) => document.getElementById(id);

main().catch((err) => {
  console.error(err);
  document.body.dataset.ready = 'error';
});

async function main() {
  i18n.apply(document);
  setupLangSwitch();
  const timeline = createTimeline($('timeline'), i18n);
  i18n.onChange(() => {
    i18n.apply(document);
    timeline.rerender();
  });

  const pages = { shop: $('page-shop'), result: $('page-result') };
  const go = (name) => {
    for (const [n, el] of Object.entries(pages)) el.hidden = n !== name;
    $('nav-back').hidden = name === 'shop';
  };
  let checkout = null;
  const shop = createShopPage({
    root: pages.shop,
    i18n,
    onBuy: (product, quantity) => {
      go('result');
      checkout.buy(product, quantity);
    },
  });
  const backToShop = () => {
    checkout.leave();
    go('shop');
  };
  $('nav-back').addEventListener('click', backToShop);

  const config = await fetch('/demo/config.json')
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  if (config?.mode !== 'demo') {
    shop.setMessage('shop.notDemo');
    document.body.dataset.ready = 'not-demo';
    return;
  }

  const wx = createWx({
    simulatorUrl: config.simulatorUrl,
    appid: config.appid,
    mount: $('phone-screen'),
    lang: () => i18n.lang,
    observe: (o) => o.api === 'login' && timeline.add(wxLoginEntry(o)),
  });
  const api = createServiceApi({
    wx,
    baseUrl: location.origin,
    trace: (e) => timeline.add(e.kind === 'login' ? loginEntry(e) : reloginEntry(e)),
  });
  const controls = createSimControls({
    root: $('sim-controls'),
    simulatorUrl: config.simulatorUrl,
    i18n,
    timeline,
    onExpireSession: () => api.expireSession(),
  });
  const confirmSeconds = Number(params.get('confirm'));
  const view = createResultPage({
    root: pages.result,
    i18n,
    actions: {
      payAgain: () => checkout.pay(),
      sync: () => checkout.sync(),
      close: () => checkout.close(),
      back: backToShop,
      retry: (product, quantity, key) => checkout.buy(product, quantity, key),
    },
  });
  checkout = createCheckout({
    api,
    wx,
    timeline,
    simulatorUrl: config.simulatorUrl,
    view,
    onOrderCreated: (order) => controls.orderCreated(order),
    timing: confirmSeconds > 0 ? { confirmMs: confirmSeconds * 1000 } : {},
  });

  try {
    await api.login();
    shop.setProducts(await api.products());
    document.body.dataset.ready = 'true';
  } catch (err) {
    timeline.add(errorEntry('login', err));
    shop.setMessage('shop.loginFailed');
    document.body.dataset.ready = 'login-failed';
  }
}

function setupLangSwitch() {
  for (const button of document.querySelectorAll('[data-lang]')) {
    const sync = () => button.setAttribute('aria-pressed', String(button.dataset.lang === i18n.lang));
    sync();
    i18n.onChange(sync);
    button.addEventListener('click', () => {
      i18n.set(button.dataset.lang);
      const url = new URL(location.href);
      url.searchParams.set('lang', i18n.lang);
      history.replaceState(null, '', url);
    });
  }
}
