/** API v3 (JSON, RSA-SHA256, AEAD_AES_256_GCM): the same shapes as `../v2/index.ts`. */
export {
  type AeadDecryptInput,
  type AeadDecryptResult,
  type AeadEncryptInput,
  decryptAeadAes256Gcm,
  encryptAeadAes256Gcm,
} from './aead.js';
export {
  interpretV3Response,
  jsonObject,
  malformed,
  normalizeV3ErrorCode,
  sendV3,
  type V3Identity,
  type V3Request,
  v3ErrorFor,
  v3RequestHeaders,
} from './call.js';
export { decryptCertificateList } from './certificates.js';
export { createV3Client, type V3Client, type V3ClientOptions } from './client.js';
export {
  type AddCertificatesResult,
  CERTIFICATE_REFRESH_INTERVAL_SECONDS,
  CERTIFICATE_REFRESH_MIN_GAP_SECONDS,
  type CertificateRefreshPolicy,
  certificateSerial,
  createCertificateRefreshPolicy,
  createV3KeyStore,
  keyMatchesCertificate,
  type RefreshTrigger,
  tryCertificateSerial,
  type V3KeyStore,
  type V3KeyStoreOptions,
  type V3PlatformCertificate,
} from './keys.js';
export {
  type BuildV3NotificationInput,
  buildV3Notification,
  DEFAULT_MAX_NOTIFICATION_BYTES,
  type V3Notification,
  type V3NotificationFailure,
  type V3NotificationResource,
  type V3NotificationResult,
  type VerifyV3NotificationOptions,
  verifyV3Notification,
} from './notify.js';
export {
  type V3PayParams,
  type V3PayParamsInput,
  type V3PaySignInput,
  v3PayParams,
  verifyV3PaySign,
} from './pay-params.js';
export {
  type JsapiInput,
  type TradeBillInput,
  toJsapiBody,
  toRefundBody,
  V3_OUT_TRADE_NO_PATTERN,
  type V3RefundInput,
  v3Paths,
} from './requests.js';
export {
  parseJson,
  toV3Refund,
  toV3RefundResource,
  toV3Transaction,
  type V3Refund,
  type V3RefundResource,
  type V3RefundStatus,
  type V3TradeState,
  type V3Transaction,
} from './responses.js';
export {
  authorizationHeader,
  DEFAULT_TOLERANCE_SECONDS,
  type ParsedAuthorization,
  parseAuthorization,
  SIGN_PROBE_PREFIX,
  type SignRequestV3Input,
  type SignResponseV3Input,
  signRequestV3,
  signResponseV3,
  signV3,
  V3_SIGNATURE_SCHEME,
  type V3AuthorizationFields,
  type V3Key,
  type V3KeyResolver,
  type V3VerifyFailure,
  type V3VerifyResult,
  type VerifyWechatpayHeadersInput,
  v3RequestMessage,
  v3ResponseMessage,
  verifyV3,
  verifyWechatpayHeaders,
} from './sign.js';
