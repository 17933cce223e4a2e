import { createHash, timingSafeEqual } from 'node:crypto';
import { type Clock, systemClock } from '../../clock.js';
import { unpackBill } from '../bill-file.js';
import { createTransport, type Transport, type TransportResponse } from '../transport.js';
import { createNonce } from '../v2/fields.js';
import {
  interpretV3Response,
  jsonObject as json,
  malformed,
  sendV3,
  type V3Identity,
  type V3Request,
  v3RequestHeaders,
} from './call.js';
import { decryptCertificateList } from './certificates.js';
import {
  CERTIFICATE_REFRESH_INTERVAL_SECONDS,
  createCertificateRefreshPolicy,
  createV3KeyStore,
  type V3KeyStore,
  type V3PlatformCertificate,
} from './keys.js';
import {
  type JsapiInput,
  type TradeBillInput,
  toJsapiBody,
  toRefundBody,
  type V3RefundInput,
  v3Paths,
} from './requests.js';
import { toV3Refund, toV3Transaction, type V3Refund, type V3Transaction } from './responses.js';
import { type V3Key, type V3KeyResolver, verifyWechatpayHeaders } from './sign.js';

export type { JsapiInput, TradeBillInput, V3RefundInput } from './requests.js';

/**
 * The typed API v3 client: JSAPI order, query (by out_trade_no and by transaction_id), close,
 * refund, refund query, trade bill, platform certificates. It takes a base URL so it can point at
 * the simulator. Bodies are built by requests.ts, answers judged by call.ts and typed by
 * responses.ts; this file wires them to the transport and keeps the platform certificates fresh:
 * downloaded every 12 hours and when an unknown `Wechatpay-Serial` shows up, never more than once
 * a minute (a forger can send unknown serials at will).
 */

export interface V3ClientOptions {
  /** `https://api.mch.weixin.qq.com`, or the simulator's URL. */
  baseUrl: string;
  mchid: string;
  appid: string;
  /** Serial of the merchant API certificate, sent in `Authorization`. */
  serialNo: string;
  /** The merchant API private key. */
  privateKey: V3Key;
  /** The 32-byte APIv3 key (decrypts platform certificates). */
  apiV3Key: string;
  keys: V3KeyStore;
  /** Deadline per call. Default 5000 ms. */
  timeoutMs?: number;
  /** Unix seconds; defaults to `clock`. */
  nowSeconds?: () => number;
  clock?: Clock;
  /** Replay window for response signatures. Default 300 s. */
  toleranceSeconds?: number;
  transport?: Transport;
  nonce?: () => string;
  /**
   * Download platform certificates (every 12 h, on unknown serials)? Default: yes, unless the key
   * store holds only a WeChat Pay public key.
   */
  refreshCertificates?: boolean;
  /** Sent as `Wechatpay-Serial`. Default: the store's `PUB_KEY_ID_…` when it has one. */
  wechatpaySerial?: string;
  billMaxBytes?: number;
  billTimeoutMs?: number;
}

export interface V3Client {
  jsapi(input: JsapiInput): Promise<{ prepayId: string }>;
  queryByOutTradeNo(outTradeNo: string): Promise<V3Transaction>;
  queryById(transactionId: string): Promise<V3Transaction>;
  /** Resolves on `204`. `ORDERPAID` arrives as a WechatRejectedError: the order is paid. */
  closeOrder(outTradeNo: string): Promise<void>;
  refund(input: V3RefundInput): Promise<V3Refund>;
  queryRefund(outRefundNo: string): Promise<V3Refund>;
  /** The bill file as text, after its SHA1 `hash_value` has matched (unpacked when `tarType: 'GZIP'`). */
  tradeBill(input: TradeBillInput): Promise<string>;
  /** Downloads, verifies and decrypts the platform certificates and adds them to the key store. */
  certificates(): Promise<V3PlatformCertificate[]>;
  /** Closes the transport this client created (not an injected one). */
  close(): Promise<void>;
}

/**
 * @example
 * const wechat = createV3Client({ baseUrl: 'http://127.0.0.1:3100', mchid: '1900000109',
 *   appid: 'wx1234567890abcdef', serialNo, privateKey, apiV3Key,
 *   keys: createV3KeyStore({ publicKey: { id: 'PUB_KEY_ID_…', pem } }) });
 * const { prepayId } = await wechat.jsapi({ description: '咖啡', outTradeNo: 'ORDER_1', total: 1,
 *   openid, notifyUrl: 'https://shop.example/payment/notify/v3' });
 */
export function createV3Client(options: V3ClientOptions): V3Client {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(clock.now() / 1000));
  const nonce = options.nonce ?? (() => createNonce());
  const id: V3Identity = { mchid: options.mchid, serialNo: options.serialNo, privateKey: options.privateKey };
  const ownTransport = options.transport === undefined;
  const transport = options.transport ?? createTransport({ timeoutMs: options.timeoutMs ?? 5000 });
  const keys = options.keys;
  const onlyPublicKey = keys.serials().length > 0 && keys.serials().every((s) => s.startsWith('PUB_KEY_ID_'));
  const refreshing = options.refreshCertificates ?? !onlyPublicKey;
  const wechatpaySerial = options.wechatpaySerial ?? keys.serials().find((s) => s.startsWith('PUB_KEY_ID_'));
  const policy = createCertificateRefreshPolicy({ nowSeconds });
  let inFlight: Promise<void> | undefined;

  const verify = (res: TransportResponse, resolver: V3KeyResolver = keys.resolve) =>
    verifyWechatpayHeaders({
      headers: res.headers,
      body: res.body,
      keys: resolver,
      nowSeconds: nowSeconds(),
      toleranceSeconds: options.toleranceSeconds,
    });

  /** One download at a time; a failed download is not retried within the minute. */
  function refresh(): Promise<void> {
    if (!inFlight) {
      policy.attempted();
      inFlight = downloadCertificates()
        .then(() => policy.succeeded())
        .catch(() => undefined)
        .finally(() => {
          inFlight = undefined;
        });
    }
    return inFlight;
  }

  function scheduledRefreshDue(): boolean {
    if (!refreshing) return false;
    const latest = keys.latestNotAfter();
    const expiring = latest !== undefined && latest - nowSeconds() < CERTIFICATE_REFRESH_INTERVAL_SECONDS;
    return policy.due('scheduled') || (expiring && policy.due('unknown-serial'));
  }

  async function call(req: V3Request): Promise<string> {
    if (scheduledRefreshDue()) await refresh();
    const res = await sendV3(transport, baseUrl, id, req, nowSeconds(), nonce(), wechatpaySerial);
    let verified = verify(res);
    if (!verified.ok && verified.reason === 'UNKNOWN_SERIAL' && refreshing) {
      if (inFlight || policy.due('unknown-serial')) {
        await refresh();
        verified = verify(res);
      }
    }
    return interpretV3Response(res, verified, req.what);
  }

  async function downloadCertificates(): Promise<V3PlatformCertificate[]> {
    const what = 'certificates';
    const req: V3Request = { method: 'GET', pathWithQuery: v3Paths.certificates(), what };
    const res = await sendV3(transport, baseUrl, id, req, nowSeconds(), nonce(), wechatpaySerial);
    let verified = verify(res);
    let list: V3PlatformCertificate[] | undefined;
    if (!verified.ok && verified.reason === 'UNKNOWN_SERIAL' && res.status === 200) {
      // First download, or a rotation we have not seen: the answer may be signed by a certificate
      // it carries. Only WeChat can encrypt with our APIv3 key, so certificates that decrypt are
      // WeChat's, and may verify the answer that brought them.
      list = decryptCertificateList(res.body.toString('utf8'), options.apiV3Key);
      const carried = createV3KeyStore();
      carried.addCertificates(list);
      verified = verify(res, carried.resolve);
    }
    const body = interpretV3Response(res, verified, what);
    list ??= decryptCertificateList(body, options.apiV3Key);
    const { rejected } = keys.addCertificates(list);
    if (rejected.length > 0) throw malformed(what, `certificate(s) ${rejected.join(', ')} are unreadable`);
    return list;
  }

  async function query(pathWithQuery: string, what: string, same: (t: V3Transaction) => boolean) {
    const transaction = toV3Transaction(json(await call({ method: 'GET', pathWithQuery, what }), what));
    if (!transaction) throw malformed(what, 'response is not a Transaction');
    // A signed answer about another order is still not an answer to our question.
    if (transaction.mchid !== options.mchid || !same(transaction)) {
      throw malformed(what, 'response is about another order or merchant');
    }
    return transaction;
  }

  async function refundCall(req: V3Request, outRefundNo: string): Promise<V3Refund> {
    const refund = toV3Refund(json(await call(req), req.what));
    if (!refund) throw malformed(req.what, 'response is not a Refund');
    if (refund.out_refund_no !== outRefundNo)
      throw malformed(req.what, 'response is about another out_refund_no');
    return refund;
  }

  return {
    async jsapi(input) {
      const body = toJsapiBody(input, { appid: options.appid, mchid: options.mchid });
      const answer = json(
        await call({ method: 'POST', pathWithQuery: v3Paths.jsapi(), body, what: 'jsapi' }),
        'jsapi',
      );
      if (typeof answer.prepay_id !== 'string' || answer.prepay_id === '')
        throw malformed('jsapi', 'no prepay_id');
      return { prepayId: answer.prepay_id };
    },

    async queryByOutTradeNo(outTradeNo) {
      const path = v3Paths.queryByOutTradeNo(outTradeNo, options.mchid);
      return query(path, 'query', (t) => t.out_trade_no === outTradeNo);
    },

    async queryById(transactionId) {
      const path = v3Paths.queryById(transactionId, options.mchid);
      return query(path, 'query', (t) => t.transaction_id === transactionId);
    },

    async closeOrder(outTradeNo) {
      const pathWithQuery = v3Paths.close(outTradeNo);
      await call({ method: 'POST', pathWithQuery, body: { mchid: options.mchid }, what: 'close' });
    },

    async refund(input) {
      const req: V3Request = {
        method: 'POST',
        pathWithQuery: v3Paths.refund(),
        body: toRefundBody(input),
        what: 'refund',
      };
      return refundCall(req, input.outRefundNo);
    },

    async queryRefund(outRefundNo) {
      const req: V3Request = {
        method: 'GET',
        pathWithQuery: v3Paths.queryRefund(outRefundNo),
        what: 'refund query',
      };
      return refundCall(req, outRefundNo);
    },

    async tradeBill(input) {
      const what = 'tradebill';
      const answer = json(await call({ method: 'GET', pathWithQuery: v3Paths.tradeBill(input), what }), what);
      const { download_url: downloadUrl, hash_type: hashType, hash_value: hashValue } = answer;
      if (
        typeof downloadUrl !== 'string' ||
        typeof hashValue !== 'string' ||
        !/^[0-9a-fA-F]{40}$/.test(hashValue)
      ) {
        throw malformed(what, 'no download_url or SHA1 hash_value');
      }
      if (hashType !== undefined && hashType !== 'SHA1')
        throw malformed(what, `unknown hash_type ${String(hashType)}`);
      return download(downloadUrl, hashValue);
    },

    async certificates() {
      policy.attempted();
      const list = await downloadCertificates();
      policy.succeeded();
      return list;
    },

    async close() {
      if (ownTransport) await transport.close();
    },
  };

  async function download(downloadUrl: string, hashValue: string): Promise<string> {
    const what = 'billdownload';
    let url: URL;
    try {
      url = new URL(downloadUrl);
    } catch {
      throw malformed(what, 'download_url is not a URL');
    }
    // The download request is signed with our key: never send it to a host other than WeChat's.
    if (url.origin !== new URL(baseUrl).origin) throw malformed(what, 'download_url points at another host');
    const req: V3Request = { method: 'GET', pathWithQuery: `${url.pathname}${url.search}`, what };
    const maxBytes = options.billMaxBytes ?? 64 * 1024 * 1024;
    const res = await transport.request({
      method: 'GET',
      url: url.href,
      headers: v3RequestHeaders(id, req, '', nowSeconds(), nonce(), wechatpaySerial),
      timeoutMs: options.billTimeoutMs ?? 30_000,
      maxResponseBytes: maxBytes,
    });
    // A failed download is an error answer like any other (this throws for every non-2xx).
    if (res.status < 200 || res.status > 299) return interpretV3Response(res, verify(res), what);
    // The file itself is not signed ("下载账单"): its SHA1, given in the signed answer, stands in.
    const digest = createHash('sha1').update(res.body).digest();
    if (!timingSafeEqual(digest, Buffer.from(hashValue, 'hex')))
      throw malformed(what, 'file does not match hash_value');
    // The hash is the file's as sent: a GZIP bill is checked first, then unpacked.
    const text = unpackBill(res.body, maxBytes, what).toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}
