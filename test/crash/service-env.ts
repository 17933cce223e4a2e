/**
 * The environment a test's service instance runs with, whether it is a child process (the crash
 * and chaos runs' SIGKILL targets) or built in-process from the same variables (the chaos runs
 * without kills): one list, so both kinds of instance are configured exactly alike.
 */
import { CREDENTIALS, V3_CREDENTIALS } from '../service/harness.js';

export interface ServiceEnvOptions {
  databaseUrl: string;
  /** The URL WeChat notifies and clients call: the relay in front of the instances. */
  doorUrl: string;
  /** Where the Pay API is reached (a relay in front of the simulator, or the simulator). */
  payUrl: string;
  /** Where code2Session is reached. */
  loginUrl: string;
  catalogueFile: string;
  timeoutMs?: number;
  reconcile: { afterSeconds: number; intervalSeconds: number };
}

export function serviceEnv(options: ServiceEnvOptions): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    WECHAT_APPID: CREDENTIALS.appid,
    WECHAT_SECRET: CREDENTIALS.secret,
    WECHAT_MCHID: CREDENTIALS.mchId,
    WECHAT_MCH_KEY: CREDENTIALS.key,
    // Refunds present the merchant certificate; the simulator over plain HTTP does not ask for
    // it, but the service refuses to refund without one configured.
    WECHAT_MCH_CERT: V3_CREDENTIALS.merchantCert,
    WECHAT_MCH_CERT_KEY: V3_CREDENTIALS.merchantKey,
    WECHAT_NOTIFY_URL: `${options.doorUrl}/payment/wxnotify`,
    WECHAT_PAY_BASE_URL: options.payUrl,
    WECHAT_API_BASE_URL: options.loginUrl,
    WECHAT_TIMEOUT_MS: String(options.timeoutMs ?? 3000),
    ADMIN_TOKEN: CREDENTIALS.adminToken,
    CATALOGUE_FILE: options.catalogueFile,
    LOG_LEVEL: 'warn',
    LOGIN_RATE_PER_MINUTE: '10000',
    RECONCILE_AFTER_SECONDS: String(options.reconcile.afterSeconds),
    RECONCILE_INTERVAL_SECONDS: String(options.reconcile.intervalSeconds),
    RECONCILE_BATCH: '1000',
  };
}
