/** API v2 (XML, MD5/HMAC-SHA256). A future `../v3/index.ts` exports the same shapes for v3. */
export {
  interpretBillResponse,
  interpretV2Response,
  postV2,
  returnFailCode,
  signedRequestV2,
  V2_RETRYABLE_ERR_CODES,
  type V2Identity,
} from './call.js';
export {
  createV2Client,
  type RefundResult,
  type UnifiedOrderResult,
  type V2Client,
  type V2ClientCert,
  type V2ClientOptions,
} from './client.js';
export {
  createNonce,
  formatWechatTime,
  isValidFen,
  isValidOutRefundNo,
  isValidOutTradeNo,
  MAX_FEN,
  OUT_REFUND_NO_PATTERN,
  OUT_TRADE_NO_PATTERN,
  parseFen,
  parseWechatTime,
  truncateUtf8,
  utf8ByteLength,
} from './fields.js';
export {
  buildPaymentNotification,
  isSuccessfulNotifyReply,
  notifyReply,
  type PaymentNotification,
  parseNotificationXml,
  type VerifyNotificationOptions,
  verifyNotificationFields,
  verifyPaymentNotification,
} from './notify.js';
export {
  type RequestPaymentInput,
  type RequestPaymentParams,
  requestPaymentParams,
  verifyRequestPaymentParams,
} from './pay-params.js';
export {
  buildRefundNotification,
  decryptRefundReqInfo,
  encryptRefundReqInfo,
  type RefundNotification,
  verifyRefundNotification,
} from './refund-notify.js';
export {
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
export {
  type OrderQueryResult,
  type RefundQueryResult,
  type RefundRecord,
  toOrderQueryResult,
  toRefundQueryResult,
  toRefundStatus,
  toTradeState,
  type V2RefundStatus,
  type V2TradeState,
} from './responses.js';
export {
  canonicalV2,
  isV2SignType,
  signTypeOfV2,
  signV2,
  V2_SIGN_TYPES,
  type V2Fields,
  type V2SignType,
  verifyV2,
  withSignV2,
} from './sign.js';
export {
  type BuildXmlOptions,
  buildXml,
  DEFAULT_MAX_XML_BYTES,
  type ParseXmlOptions,
  parseXml,
} from './xml.js';
