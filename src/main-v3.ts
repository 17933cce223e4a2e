/**
 * The API v3 part of the composition root (src/main.ts): the key store that verifies WeChat's
 * signatures, the v3 client, and the download of platform certificates when they are needed.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { WechatConfig } from './config.js';
import type { V3Settings } from './config-v3.js';
import { createV3Gateway } from './orders/gateway-v3.js';
import type { PaymentGateway } from './orders/ports.js';
import type { RefundGateway } from './orders/refund-gateway.js';
import { createV3RefundGateway } from './orders/refund-gateway-v3.js';
import { type BillSource, createV3BillSource } from './reconcile/bill-source.js';
import { createV3Client } from './wechat/v3/client.js';
import { createCertificateRefreshPolicy, createV3KeyStore, type RefreshTrigger } from './wechat/v3/keys.js';
import type { V3KeyResolver } from './wechat/v3/sign.js';

export interface V3Payments {
  gateway: PaymentGateway;
  /** Refunds over 《退款申请》; their `REFUND.*` notifications (or queries) settle them. */
  refundGateway: RefundGateway;
  /** 《申请交易账单》 and its download, for the daily reconciliation. */
  bills: BillSource;
  keys: V3KeyResolver;
  /** Downloads platform certificates for an unknown serial (rate limited); true when keys changed. */
  refreshKeys(serial: string): Promise<boolean>;
  /** Platform-certificate mode: the first download, so a problem shows at start-up. */
  start(): Promise<void>;
}

export function createV3Payments(
  wechat: WechatConfig & { v3: V3Settings },
  deps: { clock: Clock; log: Logger },
): V3Payments {
  const { clock, log } = deps;
  const { v3 } = wechat;
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  const keys = createV3KeyStore({ ...(v3.payPublicKey && { publicKey: v3.payPublicKey }), nowSeconds });
  const client = createV3Client({
    baseUrl: wechat.payBaseUrl,
    mchid: wechat.mchId,
    appid: wechat.appid,
    serialNo: v3.serialNo,
    privateKey: v3.merchantPrivateKey,
    apiV3Key: v3.apiV3Key,
    keys,
    timeoutMs: wechat.timeoutMs,
    nowSeconds,
  });
  const policy = createCertificateRefreshPolicy({ nowSeconds });

  async function refresh(trigger: RefreshTrigger): Promise<boolean> {
    if (!policy.due(trigger)) return false;
    policy.attempted();
    try {
      const { added, rejected } = keys.addCertificates(await client.certificates());
      policy.succeeded();
      if (rejected.length > 0)
        log.error({ rejected }, 'platform certificates refused (serial does not match)');
      log.info({ serials: added }, 'platform certificates loaded');
      return added.length > 0;
    } catch (err) {
      log.warn({ err, trigger }, 'could not download platform certificates; will try again');
      return false;
    }
  }

  return {
    gateway: createV3Gateway({
      client,
      clock,
      settings: {
        appid: wechat.appid,
        notifyUrl: wechat.notifyUrl,
        merchantPrivateKey: v3.merchantPrivateKey,
      },
    }),
    refundGateway: createV3RefundGateway(client, { notifyUrl: wechat.notifyUrl }),
    bills: createV3BillSource(client),
    keys: keys.resolve,
    // A WeChat Pay public key id cannot be downloaded: only a certificate serial is worth a try.
    refreshKeys: (serial) =>
      serial.startsWith('PUB_KEY_ID_') ? Promise.resolve(false) : refresh('unknown-serial'),
    async start() {
      if (!v3.payPublicKey) await refresh('scheduled');
    },
  };
}
