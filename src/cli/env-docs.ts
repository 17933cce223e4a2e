import type { KNOWN_VARIABLES } from '../config.js';

type Known = (typeof KNOWN_VARIABLES)[number];

/**
 * What `--help` says about each environment variable: one line and an example. Keyed by every
 * name config.ts knows, so a new setting fails the typecheck until it is documented here too.
 */
export const ENV_DOCS: Readonly<Record<Known, { about: string; example: string }>> = {
  PORT: { about: 'service port (default 3000; --port wins)', example: '3000' },
  HOST: { about: 'address to listen on (default 0.0.0.0; the demo 127.0.0.1)', example: '127.0.0.1' },
  DATABASE_URL: {
    about: 'sqlite:PATH or postgres://… (default sqlite:./data/weapp-pay.db)',
    example: 'postgres://weapp:secret@db:5432/weapp',
  },
  SQLITE_CACHE_MB: {
    about: 'SQLite page cache in MB, 1 to 4096 (default 16): filled only as the file grows',
    example: '16',
  },
  DATABASE_POOL_SIZE: {
    about: 'PostgreSQL connections per instance, 2 to 1000 (default 10); unused on SQLite',
    example: '10',
  },
  LOG_LEVEL: { about: 'fatal|error|warn|info|debug|trace|silent; debug also prints stacks', example: 'info' },
  LOG_SYNC: {
    about: 'true: write each log line before going on; false (default): asynchronously, flushed at exit',
    example: 'false',
  },
  WECHAT_APPID: { about: 'Mini Program appid (credential)', example: 'wx1234567890abcdef' },
  WECHAT_SECRET: { about: 'Mini Program AppSecret (credential)', example: '<from mp.weixin.qq.com>' },
  WECHAT_MCHID: { about: 'merchant id, 8 to 10 digits (credential)', example: '1900000109' },
  WECHAT_MCH_KEY: {
    about: 'the 32-character API v2 key (v2 credential; optional on v3)',
    example: '<32 characters>',
  },
  WECHAT_SIGN_TYPE: { about: 'MD5 or HMAC-SHA256 (default)', example: 'HMAC-SHA256' },
  WECHAT_NOTIFY_URL: {
    about: 'public HTTPS URL of POST /payment/wxnotify (v2) or /payment/wxnotify/v3, no query string',
    example: 'https://shop.example.com/payment/wxnotify',
  },
  WECHAT_PAY_BASE_URL: {
    about: 'Pay API host (the simulator to test offline)',
    example: 'http://127.0.0.1:3100',
  },
  WECHAT_API_BASE_URL: {
    about: 'login API host (the simulator to test offline)',
    example: 'http://127.0.0.1:3100',
  },
  WECHAT_API_VERSION: { about: 'v2 (default, XML) or v3 (JSON, RSA)', example: 'v2' },
  WECHAT_TIMEOUT_MS: { about: 'timeout of each call to WeChat, 100 to 60000', example: '5000' },
  WECHAT_MCH_CERT: {
    about: 'merchant API certificate (path or PEM): v3 signing, v2 refunds',
    example: './certs/apiclient_cert.pem',
  },
  WECHAT_MCH_CERT_KEY: {
    about: 'its private key (path or PEM; v3 credential)',
    example: './certs/apiclient_key.pem',
  },
  WECHAT_MCH_CERT_SERIAL: {
    about: 'v3: the certificate serial, only when the certificate itself is not given',
    example: '<hex serial>',
  },
  WECHAT_API_V3_KEY: { about: 'v3: the 32-character APIv3 key (credential)', example: '<32 characters>' },
  WECHAT_PAY_PUBLIC_KEY: {
    about: 'v3: the WeChat Pay public key (path or PEM); unset = platform certificates',
    example: './certs/pub_key.pem',
  },
  WECHAT_PAY_PUBLIC_KEY_ID: { about: 'v3: its id, PUB_KEY_ID_…', example: 'PUB_KEY_ID_0119…' },
  ADMIN_TOKEN: {
    about:
      'bearer token for /metrics, /docs/json, the /admin/* API (≥ 32 characters); /docs and /admin ask for it',
    example: '<openssl rand -hex 24>',
  },
  CATALOGUE_FILE: { about: 'JSON list of products, prices in fen', example: './catalogue.json' },
  SESSION_TTL_SECONDS: { about: 'login session lifetime', example: '7200' },
  ORDER_TTL_SECONDS: { about: 'how long an order may be paid', example: '1800' },
  RECONCILE_AFTER_SECONDS: { about: 'query an unpaid order after this long', example: '60' },
  RECONCILE_INTERVAL_SECONDS: { about: 'reconciler cycle', example: '15' },
  RECONCILE_BATCH: { about: 'orders queried per cycle', example: '50' },
  RECONCILE_DAILY: {
    about: "when (Beijing time) yesterday's WeChat bill is reconciled each day, or off (default 10:00)",
    example: '10:30',
  },
  MAX_ORDER_AMOUNT_FEN: { about: 'largest order, in fen', example: '1000000' },
  LOGIN_RATE_PER_MINUTE: { about: 'logins per client IP per minute', example: '30' },
  WEAPP_PAY_URL: {
    about: 'where logs, trigger and orders find the running service (default http://127.0.0.1:3000)',
    example: 'http://127.0.0.1:3000',
  },
  TRUST_PROXY: {
    about: 'true behind one reverse proxy, a number of proxies, or their addresses/CIDRs (default false)',
    example: 'true',
  },
  WEBHOOK_URL: {
    about:
      'one webhook endpoint without the console: every event is POSTed here, signed (needs WEBHOOK_SECRET)',
    example: 'https://shop.example.com/weapp-pay/webhook',
  },
  WEBHOOK_SECRET: {
    about: "WEBHOOK_URL's signing secret, at least 24 characters; your receiver verifies with it",
    example: 'whsec_<openssl rand -hex 24>',
  },
};

/** The help section listing the variables a command reads, each with an example. */
export function envHelp(names: readonly Known[]): string {
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map(
    (n) =>
      `  ${n.padEnd(width)}  ${ENV_DOCS[n].about}\n  ${' '.repeat(width)}  e.g. ${n}=${ENV_DOCS[n].example}`,
  );
  return `\nEnvironment (also read from ./.env or --env-file; real variables win):\n${lines.join('\n')}\n`;
}
