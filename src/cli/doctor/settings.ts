import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config, Env } from '../../config.js';
import { ENV_DOCS } from '../env-docs.js';
import { type CheckResult, fail, ok, warn } from './check.js';

type Documented = keyof typeof ENV_DOCS;

/**
 * One red line per problem the service itself reports at start-up (loadConfig, the catalogue,
 * the certificate files): the rules live there, the doctor only names the setting and shows
 * what a good value looks like.
 */
export function settingProblems(problems: readonly string[]): CheckResult[] {
  return problems.map((problem) => {
    const name = /^[A-Z][A-Z0-9_]+/.exec(problem)?.[0];
    const doc = name && name in ENV_DOCS ? ENV_DOCS[name as Documented] : undefined;
    const fix = doc ? `${name}: ${doc.about}, e.g. ${name}=${doc.example}` : 'see docs/going-live.md';
    return fail(name ? `settings.${name}` : 'settings', problem, fix);
  });
}

/** The v2 merchant key: loadConfig has checked its shape; this line says so without showing it. */
export function checkMerchantKey(config: Config): CheckResult {
  return ok(
    'settings.merchant-key',
    `WECHAT_MCH_KEY is 32 characters (API v2 key, ${config.wechat.signType} signatures)`,
  );
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** The service's payment notification route for each API version (src/http/routes/notify*.ts). */
const NOTIFY_PATHS = { v2: '/payment/wxnotify', v3: '/payment/wxnotify/v3' } as const;
const notifyFix = (path: string) =>
  `WECHAT_NOTIFY_URL must be the public HTTPS address of POST ${path}, with no query and no #fragment, e.g. WECHAT_NOTIFY_URL=https://shop.example.com${path}`;

/**
 * WeChat calls the notify URL from the internet: HTTPS, a host it can reach, no query string
 * (WeChat drops it) and no fragment. Plain http on localhost is a test setup with the simulator.
 * The path should be the route of the API version in use: v2's route answers v3's JSON with an
 * error, and the reverse, so a mix-up loses every notification unless a proxy rewrites the path.
 */
export function checkNotifyUrl(notifyUrl: string, apiVersion: 'v2' | 'v3' = 'v2'): CheckResult {
  const id = 'settings.notify-url';
  const path = NOTIFY_PATHS[apiVersion];
  const fix = notifyFix(path);
  const url = new URL(notifyUrl);
  if (url.search !== '' || notifyUrl.includes('?'))
    return fail(id, `WECHAT_NOTIFY_URL has a query string, which WeChat drops`, fix);
  if (url.hash !== '' || notifyUrl.includes('#'))
    return fail(id, 'WECHAT_NOTIFY_URL has a #fragment, which never reaches the server', fix);
  if (url.protocol === 'http:') {
    if (LOOPBACK.has(url.hostname))
      return warn(
        id,
        `WECHAT_NOTIFY_URL is plain http on ${url.hostname}: fine with the simulator, unreachable for WeChat`,
        fix,
      );
    return fail(id, 'WECHAT_NOTIFY_URL is plain http: WeChat only calls HTTPS notify URLs', fix);
  }
  if (!url.pathname.endsWith(path)) {
    const other = apiVersion === 'v3' ? 'v2' : 'v3';
    const why = url.pathname.endsWith(NOTIFY_PATHS[other])
      ? `: that is the API ${other} route, and this service speaks ${apiVersion}`
      : '';
    return warn(
      id,
      `WECHAT_NOTIFY_URL does not end in ${path} (it is ${url.pathname})${why}`,
      `fine if a proxy rewrites it; otherwise ${fix}`,
    );
  }
  return ok(id, `WECHAT_NOTIFY_URL is HTTPS, without query or fragment (${url.host}${url.pathname})`);
}

/**
 * The text of a PEM setting (a path, relative to `cwd`, or the PEM itself), as serve's
 * preflight reads it; undefined when unset. Only called once the preflight found it readable.
 */
export function pemSetting(env: Env, name: string, cwd: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  return readFileSync(resolve(cwd, value), 'utf8');
}
