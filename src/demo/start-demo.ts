import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { type Catalogue, loadCatalogueFile } from '../catalogue/catalogue.js';
import { type ApiVersion, loadConfig } from '../config.js';
import type { DbHandle } from '../db/open.js';
import { freePort } from '../http/free-port.js';
import { createService, type Service } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { createSimulator } from '../simulator/simulator.js';
import { generateTestCertificates } from '../simulator/tls.js';
import { type DemoCredentials, generateDemoCredentials } from './demo-credentials.js';

export { generateDemoCredentials } from './demo-credentials.js';

export interface DemoOptions {
  /** Service port; 0 picks a free one below the ephemeral range (see http/free-port.ts). Default 3000. */
  port?: number;
  /** Simulator port; 0 picks a free one. Default 3100. */
  simulatorPort?: number;
  host?: string;
  databaseUrl?: string;
  /** Divides the simulator's notification retry waits, so a demo shows retries in seconds. */
  timeScale?: number;
  log?: Logger;
  catalogue?: Catalogue;
  /** The WeChat Pay API the service speaks: v3 (default, public-key mode) or v2. */
  apiVersion?: ApiVersion;
  /** Credentials to reuse (`weapp-pay start` keeps them in ./data/); fresh ones by default. */
  credentials?: DemoCredentials;
}

export interface Demo {
  serviceUrl: string;
  simulatorUrl: string;
  adminToken: string;
  appid: string;
  apiVersion: ApiVersion;
  service: Service;
  database: DbHandle;
  close(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Demo mode: the simulator and the service in one process, on SQLite, with the credentials given
 * (`weapp-pay start` keeps them in ./data/) or fresh ones.
 * The browser demo (web/) is served by the service at /. Used by `weapp-pay start` and by the
 * end-to-end browser tests.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const creds = options.credentials ?? generateDemoCredentials();
  const log = options.log ?? createLogger('warn');
  const catalogue = options.catalogue ?? loadDemoCatalogue();
  const apiVersion = options.apiVersion ?? 'v3';
  // Credentials kept by an older demo have no APIv3 key: one is made for this run.
  const apiV3Key = creds.apiV3Key ?? generateDemoCredentials().apiV3Key!;
  // The merchant API certificate and key (RSA, as the merchant platform issues them): v3 signs
  // requests and wx.requestPayment with the key; the simulator verifies with the certificate.
  const merchantCert =
    apiVersion === 'v3' ? await generateTestCertificates({ mchId: creds.mchId }) : undefined;

  const simulator = createSimulator({
    merchants: [
      {
        mchId: creds.mchId,
        key: creds.key,
        name: 'weapp-pay 演示商店',
        appids: [{ appid: creds.appid, secret: creds.secret }],
        ...(merchantCert && { cert: merchantCert.clientCert, apiV3Key }),
      },
    ],
    timeScale: options.timeScale ?? 1,
  });
  const { url: simulatorUrl } = await simulator.listen({ port: options.simulatorPort ?? 3100, host });
  const wechatEnv = merchantCert
    ? await v3DemoEnv(simulatorUrl, { ...merchantCert, apiV3Key })
    : { WECHAT_MCH_KEY: creds.key };

  const port = options.port === 0 ? await freePort(host) : (options.port ?? 3000);
  const serviceUrl = `http://${host}:${port}`;
  const loaded = loadConfig({
    PORT: String(port),
    HOST: host,
    DATABASE_URL: options.databaseUrl ?? 'sqlite:./data/weapp-pay.db',
    LOG_LEVEL: 'warn',
    WECHAT_APPID: creds.appid,
    WECHAT_SECRET: creds.secret,
    WECHAT_MCHID: creds.mchId,
    ...wechatEnv,
    WECHAT_NOTIFY_URL: `${serviceUrl}/payment/wxnotify${apiVersion === 'v3' ? '/v3' : ''}`,
    WECHAT_PAY_BASE_URL: simulatorUrl,
    WECHAT_API_BASE_URL: simulatorUrl,
    ADMIN_TOKEN: creds.adminToken,
    // Short enough that a person watching the demo sees the reconciler recover a dropped notification.
    RECONCILE_AFTER_SECONDS: '10',
    RECONCILE_INTERVAL_SECONDS: '5',
  });
  if (!loaded.ok) {
    await simulator.close();
    throw new Error(`demo configuration is invalid: ${loaded.problems.join('; ')}`);
  }
  let service: Service;
  try {
    service = await createService({
      config: loaded.config,
      catalogue,
      log,
      demo: {
        webRoot: `${REPO_ROOT}web`,
        config: { mode: 'demo', simulatorUrl, appid: creds.appid },
      },
    });
    service.reconciler.start();
    service.webhooks.start();
    await service.app.listen({ port, host });
  } catch (err) {
    await simulator.close();
    throw err;
  }
  return {
    serviceUrl,
    simulatorUrl,
    adminToken: creds.adminToken,
    appid: creds.appid,
    apiVersion,
    service,
    database: service.database,
    async close() {
      await service.close();
      await simulator.close();
    },
  };
}

/**
 * Public-key mode, as a new merchant has it: the service trusts the WeChat Pay public key the
 * simulator publishes at /sim/v3/keys (what a merchant downloads from the merchant platform).
 */
async function v3DemoEnv(
  simulatorUrl: string,
  merchant: { clientCert: string; clientKey: string; apiV3Key: string },
): Promise<Record<string, string>> {
  const keys = (await (await fetch(`${simulatorUrl}/sim/v3/keys`)).json()) as {
    publicKeyId: string;
    publicKeyPem: string;
  };
  return {
    WECHAT_API_VERSION: 'v3',
    WECHAT_API_V3_KEY: merchant.apiV3Key,
    WECHAT_MCH_CERT: merchant.clientCert,
    WECHAT_MCH_CERT_KEY: merchant.clientKey,
    WECHAT_PAY_PUBLIC_KEY: keys.publicKeyPem,
    WECHAT_PAY_PUBLIC_KEY_ID: keys.publicKeyId,
  };
}

export function loadDemoCatalogue(): Catalogue {
  const loaded = loadCatalogueFile(`${REPO_ROOT}catalogue.example.json`);
  if (!loaded.ok) throw new Error(`the bundled demo catalogue is invalid: ${loaded.problems.join('; ')}`);
  return loaded.catalogue;
}
