/**
 * Runs the mini program in Node as WeChat renders it, for page tests: the pages' own WXML is
 * compiled by WeChat's template compiler (wcc, through miniprogram-simulate) and rendered with
 * their own logic and data in a jsdom document.
 *
 * - The TypeScript (app.ts, the pages, lib/) is bundled once by esbuild, as DevTools compiles it;
 *   only config.ts is swapped for the test backend's addresses.
 * - app.ts runs for real (`App()`), so pages get the same globalData as on a phone.
 * - Each `Page({...})` becomes a component (data stays data, functions become methods), since
 *   the renderer only knows components; the runner calls `onLoad(query)` as WeChat does on open.
 * - `wx` is page-wx.ts: login, request and requestPayment reach the real service and simulator.
 *
 * @example
 * const mp = await launchMiniProgram(backend.demo);
 * const shop = mp.open('/pages/shop/shop');
 * await shop.waitForText('立即购买');
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type DomWindow, JSDOM } from 'jsdom';
import type { AppGlobals } from '../lib/app-globals.js';
import { createPageWx, type PageWx } from './page-wx.js';
import { type RenderedPage, renderedPage } from './rendered-page.js';

const MINIPROGRAM = fileURLToPath(new URL('../', import.meta.url));

type PageDefinition = Record<string, unknown> & { data?: Record<string, unknown> };

export interface MiniProgram {
  wx: PageWx;
  app: AppGlobals;
  /** Opens a page by URL (`/pages/result/result?id=…`) on top of the stack, as navigateTo does. */
  open(url: string): RenderedPage;
  /** The page on top of the stack. */
  current(): RenderedPage;
  close(): void;
}

export async function launchMiniProgram(backend: {
  serviceUrl: string;
  simulatorUrl: string;
  appid: string;
}): Promise<MiniProgram> {
  const { simulate, document } = await loadRenderer();
  const pages = readPages();
  const mirror = mirrorTemplates(pages);
  const stack: RenderedPage[] = [];
  const definitions = new Map<string, PageDefinition>();

  const nav = {
    navigateTo: (url: string) => void open(url),
    navigateBack: () => {
      if (stack.length < 2) return false;
      stack.pop()?.detach();
      return true;
    },
    reLaunch: (url: string) => {
      for (const page of stack.splice(0)) page.detach();
      open(url);
    },
  };
  const wx = createPageWx({ simulatorUrl: backend.simulatorUrl, appid: backend.appid, nav });

  // The globals a mini program's code finds in WeChat's runtime.
  let app: AppGlobals | undefined;
  let registering: PageDefinition | undefined;
  const g = globalThis as Record<string, unknown>;
  g.wx = wx;
  g.App = (definition: AppGlobals) => {
    app = definition;
  };
  g.getApp = () => app;
  g.Page = (definition: PageDefinition) => {
    registering = definition;
  };
  g.__weappPayTestConfig = { serverUrl: backend.serviceUrl, simulatorUrl: null };
  g.__weappPayRegisterPage = (route: string) => {
    (g.Component as (options: unknown) => void)(asComponent(definitionOf(route)));
  };

  const modules = await bundle(pages);
  if (!app) throw new Error('app.ts did not call App()');

  function definitionOf(route: string): PageDefinition {
    let definition = definitions.get(route);
    if (!definition) {
      registering = undefined;
      modules[route]?.();
      if (!registering) throw new Error(`${route}.ts did not call Page()`);
      definition = registering;
      definitions.set(route, definition);
    }
    return definition;
  }

  function open(url: string): RenderedPage {
    const [path = '', search = ''] = url.split('?');
    const route = path.replace(/^\//, '');
    if (!pages.includes(route)) throw new Error(`${route} is not in app.json`);
    const id = simulate.load(join(mirror, route), { rootPath: mirror });
    const page = renderedPage(simulate.render(id), document.createElement('page-root'));
    stack.push(page);
    // WeChat passes the query to onLoad still URL-encoded; the pages decode it themselves.
    const query = Object.fromEntries(
      search
        .split('&')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    (page.comp.instance as { onLoad?: (q: Record<string, string>) => void }).onLoad?.(query);
    return page;
  }

  return {
    wx,
    app,
    open,
    current() {
      const top = stack.at(-1);
      if (!top) throw new Error('no page is open');
      return top;
    },
    close() {
      for (const page of stack.splice(0)) page.detach();
      rmSync(mirror, { recursive: true, force: true });
    },
  };
}

/**
 * The renderer draws into `window.document` and builds its events from the global `CustomEvent`.
 * Only the DOM names it uses are installed from jsdom, not a whole browser environment: the
 * service and simulator run in this same process and need Node's own `URL` and `fetch`.
 */
const DOM_GLOBALS = ['document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent'];

async function loadRenderer() {
  const g = globalThis as Record<string, unknown>;
  if (g.window === undefined) {
    const { window } = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
    g.window = window;
    for (const name of DOM_GLOBALS) g[name] = (window as unknown as Record<string, unknown>)[name];
    g.getComputedStyle = window.getComputedStyle.bind(window);
    g.requestAnimationFrame = window.requestAnimationFrame.bind(window);
  }
  const { document } = g.window as DomWindow;
  return { simulate: (await import('miniprogram-simulate')).default, document };
}

function readPages(): string[] {
  const appJson = JSON.parse(readFileSync(join(MINIPROGRAM, 'app.json'), 'utf8')) as { pages: string[] };
  return appJson.pages;
}

/**
 * The renderer loads a page from a folder holding its .json, .wxml, .wxss and .js; the .js here
 * only registers the bundled page logic, while the templates are the real files, copied.
 */
function mirrorTemplates(pages: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-pages-'));
  cpSync(join(MINIPROGRAM, 'pages'), join(dir, 'pages'), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
  for (const route of pages) {
    writeFileSync(join(dir, `${route}.js`), `globalThis.__weappPayRegisterPage(${JSON.stringify(route)});\n`);
  }
  return dir;
}

/** One bundle for the whole app, so lib/ modules are shared as they are on a phone. */
async function bundle(pages: string[]): Promise<Record<string, () => unknown>> {
  const entry = [
    "require('./app.ts');",
    `module.exports = {${pages.map((p) => `${JSON.stringify(p)}: () => require('./${p}.ts')`).join(',')}};`,
  ].join('\n');
  const out = await build({
    stdin: { contents: entry, resolveDir: MINIPROGRAM, sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2020',
    logLevel: 'silent',
    plugins: [
      {
        name: 'test-config',
        setup(b) {
          b.onResolve({ filter: /^\.\/config(\.js)?$/ }, (args) =>
            resolve(args.resolveDir) === resolve(MINIPROGRAM)
              ? { path: 'config', namespace: 'test-config' }
              : undefined,
          );
          b.onLoad({ filter: /.*/, namespace: 'test-config' }, () => ({
            contents: 'export const config = globalThis.__weappPayTestConfig;',
            loader: 'js',
          }));
        },
      },
    ],
  });
  const code = out.outputFiles[0]?.text ?? '';
  const module = { exports: {} as Record<string, () => unknown> };
  new Function('module', 'exports', code)(module, module.exports);
  return module.exports;
}

/** Page() and Component() differ in shape only: data stays data, every function is a method. */
function asComponent(definition: PageDefinition) {
  const methods: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(definition)) {
    if (typeof value === 'function') methods[name] = value;
  }
  return { data: structuredClone(definition.data ?? {}), methods };
}
