import { unpackBill } from '../bill-file.js';
import { WechatError, WechatUnknownOutcomeError } from '../errors.js';
import { createTransport, type Transport } from '../transport.js';
import { interpretBillResponse, postV2, signedRequestV2, type V2Identity, xmlRequest } from './call.js';
import { createNonce } from './fields.js';
import {
  type DownloadBillInput,
  type OrderQueryInput,
  type RefundInput,
  type RefundQueryInput,
  toCloseOrderFields,
  toDownloadBillFields,
  toOrderQueryFields,
  toRefundFields,
  toRefundQueryFields,
  toUnifiedOrderFields,
  type UnifiedOrderInput,
} from './requests.js';
import {
  type OrderQueryResult,
  type RefundQueryResult,
  requireFen,
  requireField,
  toOrderQueryResult,
  toRefundQueryResult,
} from './responses.js';
import type { V2SignType } from './sign.js';

export type {
  DownloadBillInput,
  OrderQueryInput,
  RefundInput,
  RefundQueryInput,
  UnifiedOrderInput,
} from './requests.js';
export type {
  OrderQueryResult,
  RefundQueryResult,
  RefundRecord,
  V2RefundStatus,
  V2TradeState,
} from './responses.js';

/**
 * The typed API v2 client: unifiedorder, orderquery, closeorder, refund (mutual TLS),
 * refundquery and downloadbill. It takes a base URL so it can point at the simulator.
 * Request fields are built by requests.ts, responses judged by call.ts and typed by
 * responses.ts; this file only wires them to the transport.
 */

export interface V2ClientCert {
  cert: string | Buffer;
  key: string | Buffer;
  /** Trust this CA for the refund host instead of the system store (tests, the simulator). */
  ca?: string | Buffer;
  passphrase?: string;
}

export interface V2ClientOptions {
  /** `https://api.mch.weixin.qq.com`, or the simulator's URL. No trailing slash needed. */
  baseUrl: string;
  appid: string;
  mchId: string;
  /** The 32-character API v2 key. */
  key: string;
  signType?: V2SignType;
  /** Deadline per call. Default 5000 ms. */
  timeoutMs?: number;
  /** The merchant API certificate; required for refund (`/secapi/`). */
  clientCert?: V2ClientCert;
  /** Trust this CA for the non-refund calls (an HTTPS simulator with a test CA). */
  ca?: string | Buffer;
  /** Inject a transport for the plain calls (tests, shared pools). */
  transport?: Transport;
  /** Inject the mutual-TLS transport used for refund. */
  secapiTransport?: Transport;
  nonce?: () => string;
  /** Bills are big: size cap and deadline for downloadbill. Defaults 64 MiB and 30 s. */
  billMaxBytes?: number;
  billTimeoutMs?: number;
}

export interface UnifiedOrderResult {
  prepayId: string;
  tradeType: string;
  /** Present for NATIVE orders only. */
  codeUrl?: string;
  fields: Readonly<Record<string, string>>;
}

export interface RefundResult {
  refundId: string;
  outRefundNo: string;
  refundFee: number;
  fields: Readonly<Record<string, string>>;
}

export interface V2Client {
  unifiedOrder(input: UnifiedOrderInput): Promise<UnifiedOrderResult>;
  orderQuery(input: OrderQueryInput): Promise<OrderQueryResult>;
  /** Resolves when closed. `ORDERPAID` arrives as a WechatRejectedError: the order is paid. */
  closeOrder(input: { outTradeNo: string }): Promise<void>;
  refund(input: RefundInput): Promise<RefundResult>;
  refundQuery(input: RefundQueryInput): Promise<RefundQueryResult>;
  /** The bill as text (unpacked when `tarType: 'GZIP'`, BOM removed, CRLF kept). */
  downloadBill(input: DownloadBillInput): Promise<string>;
  /** Closes the transports this client created (not injected ones). */
  close(): Promise<void>;
}

/**
 * @example
 * const wechat = createV2Client({ baseUrl: 'http://127.0.0.1:3100', appid: 'wx1234567890abcdef',
 *   mchId: '1900000109', key: 'SimulatorTestKey0123456789abcdef' });
 * const { prepayId } = await wechat.unifiedOrder({ body: '咖啡', outTradeNo: 'ORDER_1', totalFee: 1,
 *   spbillCreateIp: '127.0.0.1', notifyUrl: 'https://shop.example/payment/notify/v2', openid });
 */
export function createV2Client(options: V2ClientOptions): V2Client {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const id: V2Identity = {
    appid: options.appid,
    mchId: options.mchId,
    key: options.key,
    signType: options.signType ?? 'MD5',
  };
  const nonce = options.nonce ?? (() => createNonce());
  const owned: Transport[] = [];
  const transport =
    options.transport ??
    own(createTransport({ timeoutMs, ...(options.ca ? { tls: { ca: options.ca } } : {}) }));
  let secapi = options.secapiTransport;
  if (!secapi && options.clientCert)
    secapi = own(createTransport({ timeoutMs, tls: { ...options.clientCert } }));

  function own(t: Transport): Transport {
    owned.push(t);
    return t;
  }

  const post = (path: string, fields: Record<string, string | undefined>, what: string, via = transport) =>
    postV2(via, `${baseUrl}${path}`, fields, id, nonce(), what);

  return {
    async unifiedOrder(input) {
      const fields = await post('/pay/unifiedorder', toUnifiedOrderFields(input), 'unifiedorder');
      return {
        prepayId: requireField(fields, 'prepay_id', 'unifiedorder'),
        tradeType: requireField(fields, 'trade_type', 'unifiedorder'),
        codeUrl: fields.code_url || undefined,
        fields,
      };
    },

    async orderQuery(input) {
      const result = toOrderQueryResult(
        await post('/pay/orderquery', toOrderQueryFields(input), 'orderquery'),
      );
      // A signed answer about another order is still not an answer to our question.
      const other =
        input.outTradeNo !== undefined
          ? result.outTradeNo !== input.outTradeNo
          : result.transactionId !== undefined && result.transactionId !== input.transactionId;
      if (other)
        throw new WechatUnknownOutcomeError('malformed', 'orderquery: response is about another order');
      return result;
    },

    async closeOrder(input) {
      await post('/pay/closeorder', toCloseOrderFields(input), 'closeorder');
    },

    async refund(input) {
      // Without the certificate WeChat refuses the handshake; say so before sending anything,
      // so a configuration mistake is not mistaken for an unknown outcome.
      if (!secapi) {
        throw new WechatError(
          'CLIENT_CERT_REQUIRED',
          'refund needs the merchant API certificate (clientCert)',
        );
      }
      const fields = await post('/secapi/pay/refund', toRefundFields(input), 'refund', secapi);
      const outRefundNo = requireField(fields, 'out_refund_no', 'refund');
      if (outRefundNo !== input.outRefundNo) {
        throw new WechatUnknownOutcomeError('malformed', 'refund: response is about another out_refund_no');
      }
      return {
        refundId: requireField(fields, 'refund_id', 'refund'),
        outRefundNo,
        refundFee: requireFen(fields, 'refund_fee', 'refund'),
        fields,
      };
    },

    async refundQuery(input) {
      return toRefundQueryResult(await post('/pay/refundquery', toRefundQueryFields(input), 'refundquery'));
    },

    async downloadBill(input) {
      const req = xmlRequest(
        `${baseUrl}/pay/downloadbill`,
        signedRequestV2(toDownloadBillFields(input), id, nonce()),
      );
      const maxBytes = options.billMaxBytes ?? 64 * 1024 * 1024;
      const res = await transport.request({
        ...req,
        timeoutMs: options.billTimeoutMs ?? 30_000,
        maxResponseBytes: maxBytes,
      });
      return interpretBillResponse({ ...res, body: unpackBill(res.body, maxBytes) });
    },

    async close() {
      await Promise.all(owned.map((t) => t.close()));
    },
  };
}
