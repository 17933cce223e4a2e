/**
 * The global `wx` a rendered page sees in tests: the backend-wired `login`, `request` and
 * `requestPayment` of fake-wx.ts, plus the interface calls the pages make (loading toast,
 * modal, navigation, storage), recorded so a test can check what the person was shown.
 * Navigation is handed to the mini program runner, which opens the page the URL names.
 */
import { type CashierChoice, createFakeWx, type FakeWx } from './fake-wx.js';

export interface Modal {
  title: string;
  content: string;
}

/** The cashier sheet while it is open: the test looks at the page, then decides. */
export interface OpenCashier {
  choose(choice: CashierChoice): void;
}

export interface PageWx extends FakeWx {
  /** The title of the loading toast on screen, or null. */
  readonly loading: string | null;
  readonly modals: Modal[];
  /** Resolves when the next cashier sheet opens; until the test chooses, the payment waits. */
  nextCashier(): Promise<OpenCashier>;
}

export interface Navigator {
  navigateTo(url: string): void;
  navigateBack(): boolean;
  reLaunch(url: string): void;
}

type Callbacks = { success?: (res: never) => void; fail?: (err: { errMsg: string }) => void };

export function createPageWx(opts: { simulatorUrl: string; appid: string; nav: Navigator }): PageWx {
  const base = createFakeWx(opts);
  const storage = new Map<string, string>();
  const modals: Modal[] = [];
  let loading: string | null = null;

  const wx = Object.assign(base, {
    get loading() {
      return loading;
    },
    modals,
    nextCashier() {
      return new Promise<OpenCashier>((opened) => {
        // Only this one sheet waits; the next one pays at once unless the test asks again.
        wx.cashier = () =>
          new Promise<CashierChoice>((choose) => {
            wx.cashier = 'SUCCESS';
            opened({ choose });
          });
      });
    },
    showLoading(o: { title: string }) {
      loading = o.title;
    },
    hideLoading() {
      loading = null;
    },
    showModal(o: Modal & Callbacks) {
      modals.push({ title: o.title, content: o.content });
    },
    stopPullDownRefresh() {},
    navigateTo(o: { url: string }) {
      opts.nav.navigateTo(o.url);
    },
    navigateBack(o: Callbacks = {}) {
      if (!opts.nav.navigateBack())
        o.fail?.({ errMsg: 'navigateBack:fail cannot navigate back at first page.' });
    },
    reLaunch(o: { url: string }) {
      opts.nav.reLaunch(o.url);
    },
    getStorageSync: (key: string) => storage.get(key) ?? '',
    setStorageSync: (key: string, value: string) => void storage.set(key, value),
    removeStorageSync: (key: string) => void storage.delete(key),
  });
  return wx;
}
