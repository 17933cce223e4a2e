import { readPemSetting } from './config-pem.js';
import { readV3Settings, type V3Settings } from './config-v3.js';
import { type DailySchedule, parseDailySchedule } from './jobs/daily-reconciliation.js';
import { urlProblem } from './webhooks/endpoint-rules.js';
import type { V2SignType } from './wechat/v2/sign.js';

/**
 * The service's configuration, read once from the environment by src/main.ts, validated with
 * every problem listed at once, then frozen. Nothing else reads process.env.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** SQLite's page cache per connection, in MB (SQLITE_CACHE_MB); unused on PostgreSQL. */
  sqliteCacheMb: number;
  /** The most PostgreSQL connections one instance holds (DATABASE_POOL_SIZE); unused on SQLite. */
  databasePoolSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** LOG_SYNC: write each log line before going on (default false: asynchronous, see logDestination). */
  logSync: boolean;
  wechat: WechatConfig;
  /** Bearer token for /admin routes; admin routes answer 401 to everyone when unset. */
  adminToken: string | undefined;
  cataloguePath: string;
  sessionTtlMs: number;
  /** How long a pending order may be paid; becomes the unifiedorder `time_expire`. */
  orderTtlMs: number;
  reconcile: { afterMs: number; intervalMs: number; batch: number };
  /** RECONCILE_DAILY: when (Beijing time) yesterday's bill is reconciled each day; null = off. */
  reconcileDaily: DailySchedule;
  maxOrderAmount: number;
  loginRatePerMinute: number;
  /**
   * Which X-Forwarded-For hops to believe: false (none), a number of proxies in front of us
   * (`true` means 1), or the addresses/CIDRs of the proxies. Never "all": the left-most entry is
   * whatever the client wrote.
   */
  trustProxy: TrustProxy;
  /** The single endpoint WEBHOOK_URL and WEBHOOK_SECRET configure; undefined when unset. */
  webhook: { url: string; secret: string } | undefined;
}

export type TrustProxy = false | number | readonly string[];

export type ApiVersion = 'v2' | 'v3';
export const API_VERSIONS: readonly ApiVersion[] = ['v2', 'v3'];

export interface WechatConfig {
  apiVersion: ApiVersion;
  appid: string;
  secret: string;
  mchId: string;
  /** The v2 key; empty in v3 mode when not given (v3 signs with the merchant private key). */
  mchKey: string;
  signType: V2SignType;
  notifyUrl: string;
  payBaseUrl: string;
  apiBaseUrl: string;
  timeoutMs: number;
  /** Present exactly when apiVersion is v3. */
  v3: V3Settings | undefined;
  /**
   * The merchant API certificate and its key (PEM), from WECHAT_MCH_CERT and WECHAT_MCH_CERT_KEY:
   * v2 refunds present them over mutual TLS. Absent: refunds stay PROCESSING with
   * CLIENT_CERT_REQUIRED until they are configured.
   */
  mchCert: { cert: string; key: string } | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Every variable the service understands; a WECHAT_* or WEAPP_PAY_* name outside this list is a typo. */
export const KNOWN_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'SQLITE_CACHE_MB',
  'DATABASE_POOL_SIZE',
  'LOG_LEVEL',
  'LOG_SYNC',
  'WECHAT_APPID',
  'WECHAT_SECRET',
  'WECHAT_MCHID',
  'WECHAT_MCH_KEY',
  'WECHAT_SIGN_TYPE',
  'WECHAT_NOTIFY_URL',
  'WECHAT_PAY_BASE_URL',
  'WECHAT_API_BASE_URL',
  'WECHAT_API_VERSION',
  'WECHAT_TIMEOUT_MS',
  'WECHAT_MCH_CERT',
  'WECHAT_MCH_CERT_KEY',
  'WECHAT_MCH_CERT_SERIAL',
  'WECHAT_API_V3_KEY',
  'WECHAT_PAY_PUBLIC_KEY',
  'WECHAT_PAY_PUBLIC_KEY_ID',
  'ADMIN_TOKEN',
  'CATALOGUE_FILE',
  'SESSION_TTL_SECONDS',
  'ORDER_TTL_SECONDS',
  'RECONCILE_AFTER_SECONDS',
  'RECONCILE_INTERVAL_SECONDS',
  'RECONCILE_BATCH',
  'RECONCILE_DAILY',
  'MAX_ORDER_AMOUNT_FEN',
  'LOGIN_RATE_PER_MINUTE',
  'TRUST_PROXY',
  // Read by the commands that talk to a running service (logs, trigger, orders), never by the service.
  'WEAPP_PAY_URL',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
] as const;

/** The variables the service itself reads: every known one but those of the client commands. */
export const SERVICE_VARIABLES = KNOWN_VARIABLES.filter((name) => name !== 'WEAPP_PAY_URL');

const WATCHED_PREFIXES = ['WECHAT_', 'WEAPP_PAY_'];
// Test-harness switches that live in the same namespace but are not service configuration, and
// the simulator's WeChat Pay private key, which a shared .env may carry for `weapp-pay simulate`.
const HARNESS_VARIABLES = new Set([
  'WEAPP_PAY_REQUIRE_POSTGRES',
  'WEAPP_PAY_TEST_DATABASE_URL',
  'WECHAT_PAY_PRIVATE_KEY',
]);

export const DEFAULTS = {
  port: 3000,
  host: '0.0.0.0',
  databaseUrl: 'sqlite:./data/weapp-pay.db',
  sqliteCacheMb: 16,
  databasePoolSize: 10,
  payBaseUrl: 'https://api.mch.weixin.qq.com',
  apiBaseUrl: 'https://api.weixin.qq.com',
  cataloguePath: './catalogue.json',
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return '';
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(
        `${name} must be a whole number from ${min} to ${max} (it is ${JSON.stringify(raw)})`,
      );
      return fallback;
    }
    return Number(raw);
  }

  url(
    name: string,
    fallback?: string,
    { noQuery = false, maxBytes = Number.POSITIVE_INFINITY } = {},
  ): string {
    const value = this.text(name, fallback);
    if (value === '') return value;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      // A bare `?` or `#` counts too: the client and WeChat refuse any notify URL carrying one.
      if (noQuery && value.includes('?'))
        this.problems.push(`${name} must not have a query string (WeChat drops it)`);
      if (noQuery && value.includes('#')) this.problems.push(`${name} must not have a #fragment`);
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > maxBytes)
        this.problems.push(`${name} must be at most ${maxBytes} UTF-8 bytes (it is ${bytes})`);
    } catch {
      this.problems.push(`${name} must be an http(s) URL (it is ${JSON.stringify(value)})`);
    }
    return value.replace(/\/+$/, '');
  }
}

function suggest(name: string): string {
  const close = KNOWN_VARIABLES.find((known) => editDistance(known, name) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

/** Levenshtein distance: how many single-character edits turn `a` into `b` (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/** A WECHAT_* or WEAPP_PAY_* name weapp-pay does not know is a typo: one problem each, with the nearest name. */
export function unknownSettings(env: Env): string[] {
  const known = new Set<string>(KNOWN_VARIABLES);
  return Object.keys(env)
    .filter(
      (name) =>
        WATCHED_PREFIXES.some((p) => name.startsWith(p)) && !known.has(name) && !HARNESS_VARIABLES.has(name),
    )
    .map((name) => `${name} is not a setting weapp-pay knows${suggest(name)}`);
}

/** The credentials that make a real merchant: all of them, or none (the demo). */
export const WECHAT_CREDENTIALS = [
  'WECHAT_APPID',
  'WECHAT_SECRET',
  'WECHAT_MCHID',
  'WECHAT_MCH_KEY',
] as const;

/** API v3 signs with the merchant private key and decrypts with the APIv3 key, not the v2 key. */
export const WECHAT_V3_CREDENTIALS = [
  'WECHAT_APPID',
  'WECHAT_SECRET',
  'WECHAT_MCHID',
  'WECHAT_API_V3_KEY',
  'WECHAT_MCH_CERT_KEY',
] as const;

/**
 * Which credentials are set (non-empty) and which are missing, for the API version asked for.
 * `weapp-pay start` runs the demo only when none is set; some but not all is a mistake to report,
 * never a reason to fall back.
 */
export function wechatCredentials(env: Env): { set: string[]; missing: string[] } {
  const names: readonly string[] =
    env.WECHAT_API_VERSION?.trim() === 'v3' ? WECHAT_V3_CREDENTIALS : WECHAT_CREDENTIALS;
  const set = names.filter((n) => env[n]?.trim());
  return { set, missing: names.filter((n) => !set.includes(n)) };
}

/** True when the environment carries any WeChat credential: `weapp-pay start` then serves for real. */
export function hasWechatCredentials(env: Env): boolean {
  return wechatCredentials(env).set.length > 0;
}

/**
 * Reads and validates the configuration.
 *
 * @example
 * const result = loadConfig(process.env);
 * if (!result.ok) { console.error(result.problems.join('\n')); process.exit(1); }
 */
export function loadConfig(
  env: Env,
): { ok: true; config: Readonly<Config> } | { ok: false; problems: string[] } {
  const read = new Reader(env);
  read.problems.push(...unknownSettings(env));
  const apiVersion = read.text('WECHAT_API_VERSION', 'v2') as ApiVersion;
  if (!API_VERSIONS.includes(apiVersion))
    read.problems.push(`WECHAT_API_VERSION must be v2 or v3 (it is ${apiVersion})`);
  const appid = read.text('WECHAT_APPID');
  if (appid && !/^wx[0-9a-zA-Z]{16}$/.test(appid)) {
    read.problems.push(
      `WECHAT_APPID must be "wx" followed by 16 letters or digits (it is ${appid.length} characters)`,
    );
  }
  const secret = read.text('WECHAT_SECRET');
  const mchId = read.text('WECHAT_MCHID');
  if (mchId && !/^[0-9]{8,10}$/.test(mchId)) read.problems.push('WECHAT_MCHID must be 8 to 10 digits');
  // v3 signs with the merchant private key; the v2 key is then optional (and checked if given).
  const mchKey = read.text('WECHAT_MCH_KEY', apiVersion === 'v3' ? '' : undefined);
  if (mchKey && !/^[\x21-\x7e]{32}$/.test(mchKey)) {
    read.problems.push(`WECHAT_MCH_KEY must be 32 printable ASCII characters (it is ${mchKey.length})`);
  }
  const signType = read.text('WECHAT_SIGN_TYPE', 'HMAC-SHA256');
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
    read.problems.push(`WECHAT_SIGN_TYPE must be MD5 or HMAC-SHA256 (it is ${signType})`);
  }
  const logLevel = read.text('LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    read.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const logSyncText = read.text('LOG_SYNC', 'false');
  if (logSyncText !== 'true' && logSyncText !== 'false') {
    read.problems.push(`LOG_SYNC must be true or false (it is ${JSON.stringify(logSyncText)})`);
  }
  const databaseUrl = read.text('DATABASE_URL', DEFAULTS.databaseUrl);
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    read.problems.push('DATABASE_URL must start with sqlite: or postgres://');
  }
  const adminToken = env.ADMIN_TOKEN?.trim() || undefined;
  if (adminToken !== undefined && adminToken.length < 32) {
    read.problems.push(`ADMIN_TOKEN must be at least 32 characters (it is ${adminToken.length})`);
  }
  const trustProxy = readTrustProxy(read.text('TRUST_PROXY', 'false'), read.problems);
  const dailyText = read.text('RECONCILE_DAILY', '10:00');
  const reconcileDaily = parseDailySchedule(dailyText);
  if (reconcileDaily === undefined) {
    read.problems.push(
      `RECONCILE_DAILY must be off or a Beijing time HH:MM such as 10:00 (it is ${JSON.stringify(dailyText)})`,
    );
  }

  const config: Config = {
    port: read.integer('PORT', DEFAULTS.port, 0, 65535),
    host: read.text('HOST', DEFAULTS.host),
    databaseUrl,
    sqliteCacheMb: read.integer('SQLITE_CACHE_MB', DEFAULTS.sqliteCacheMb, 1, 4096),
    databasePoolSize: read.integer('DATABASE_POOL_SIZE', DEFAULTS.databasePoolSize, 2, 1000),
    logLevel: logLevel as Config['logLevel'],
    logSync: logSyncText === 'true',
    wechat: {
      apiVersion,
      appid,
      secret,
      mchId,
      mchKey,
      signType: signType as V2SignType,
      notifyUrl: read.url('WECHAT_NOTIFY_URL', undefined, { noQuery: true, maxBytes: 256 }),
      payBaseUrl: read.url('WECHAT_PAY_BASE_URL', DEFAULTS.payBaseUrl),
      apiBaseUrl: read.url('WECHAT_API_BASE_URL', DEFAULTS.apiBaseUrl),
      timeoutMs: read.integer('WECHAT_TIMEOUT_MS', 5000, 100, 60_000),
      v3: apiVersion === 'v3' ? readV3Settings(env, read.problems) : undefined,
      // In v3 mode the v3 settings own these two (and refunds go through API v3, without mutual TLS).
      mchCert: apiVersion === 'v2' ? readMchCert(env, read.problems) : undefined,
    },
    adminToken,
    cataloguePath: read.text('CATALOGUE_FILE', DEFAULTS.cataloguePath),
    sessionTtlMs: read.integer('SESSION_TTL_SECONDS', 7200, 60, 30 * 86400) * 1000,
    orderTtlMs: read.integer('ORDER_TTL_SECONDS', 1800, 60, 7 * 86400) * 1000,
    reconcile: {
      afterMs: read.integer('RECONCILE_AFTER_SECONDS', 60, 1, 3600) * 1000,
      intervalMs: read.integer('RECONCILE_INTERVAL_SECONDS', 15, 1, 3600) * 1000,
      batch: read.integer('RECONCILE_BATCH', 50, 1, 1000),
    },
    reconcileDaily: reconcileDaily ?? null,
    maxOrderAmount: read.integer('MAX_ORDER_AMOUNT_FEN', 1_000_000, 1, 2 ** 31 - 1),
    loginRatePerMinute: read.integer('LOGIN_RATE_PER_MINUTE', 30, 1, 100_000),
    trustProxy,
    webhook: readWebhook(env, read.problems),
  };
  if (read.problems.length > 0) return { ok: false, problems: read.problems };
  return { ok: true, config: deepFreeze(config) };
}

/** WEBHOOK_URL and WEBHOOK_SECRET: both or neither. Problems never quote the secret. */
function readWebhook(env: Env, problems: string[]): Config['webhook'] {
  const url = env.WEBHOOK_URL?.trim();
  const secret = env.WEBHOOK_SECRET?.trim();
  if (!url && !secret) return undefined;
  if (!url) problems.push('WEBHOOK_SECRET is set without WEBHOOK_URL: set both, or neither');
  if (!secret)
    problems.push(
      'WEBHOOK_URL is set without WEBHOOK_SECRET: set both (the secret your receiver verifies with)',
    );
  if (url) {
    const problem = urlProblem(url);
    if (problem) problems.push(`WEBHOOK_URL: ${problem}`);
  }
  if (secret && secret.length < 24) {
    problems.push(`WEBHOOK_SECRET must be at least 24 characters (it is ${secret.length})`);
  }
  return url && secret ? { url, secret } : undefined;
}

function readMchCert(env: Env, problems: string[]): WechatConfig['mchCert'] {
  const cert = readPemSetting(env, 'WECHAT_MCH_CERT', problems);
  const key = readPemSetting(env, 'WECHAT_MCH_CERT_KEY', problems);
  if (cert && key) return { cert, key };
  if (Boolean(env.WECHAT_MCH_CERT?.trim()) !== Boolean(env.WECHAT_MCH_CERT_KEY?.trim())) {
    problems.push('WECHAT_MCH_CERT and WECHAT_MCH_CERT_KEY go together: set both (refunds need the pair)');
  }
  return undefined;
}

/**
 * TRUST_PROXY: `false`; `true` or a hop count (how many proxies stand in front of the service);
 * or a comma-separated list of the proxies' addresses or CIDRs. `true` trusts only the nearest
 * proxy: trusting every hop would take the left-most X-Forwarded-For entry, which the client
 * writes itself, and let it pick its own address for rate limits and spbill_create_ip.
 */
export function readTrustProxy(raw: string, problems: string[]): TrustProxy {
  if (raw === 'false' || raw === '0') return false;
  if (raw === 'true') return 1;
  if (/^[0-9]{1,2}$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((e) => e.trim());
  const address = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)(\/[0-9]{1,3})?$/;
  if (entries.every((e) => address.test(e))) return entries;
  problems.push(
    `TRUST_PROXY must be false, true (one proxy), a number of proxies, or their addresses such as 10.0.0.5,10.0.1.0/24 (it is ${JSON.stringify(raw)})`,
  );
  return false;
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
