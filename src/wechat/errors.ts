/**
 * Errors of the protocol layer. Each has a stable `code`; callers switch on the class or the
 * code, never on the message.
 *
 * The three outcomes of a call to WeChat are kept apart because each asks for a different
 * reaction from the caller:
 * - {@link WechatRejectedError}: WeChat understood and refused. Retrying the same call is pointless.
 * - {@link WechatRetryableError}: WeChat said SYSTEMERROR (or similar). Retry with the *same* parameters.
 * - {@link WechatUnknownOutcomeError}: we do not know whether WeChat acted (timeout, reset, garbage,
 *   bad signature). Settle it by querying, or retry with the same parameters; never guess.
 */
export class WechatError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export type XmlErrorCode =
  | 'XML_TOO_LARGE'
  | 'XML_NOT_UTF8'
  | 'XML_BOM'
  | 'XML_DOCTYPE'
  | 'XML_ENTITY'
  | 'XML_PROCESSING_INSTRUCTION'
  | 'XML_UNSUPPORTED_MARKUP'
  | 'XML_NESTED'
  | 'XML_DUPLICATE_FIELD'
  | 'XML_ATTRIBUTES'
  | 'XML_ROOT'
  | 'XML_MALFORMED';

/** The input is not the flat `<xml>` document WeChat exchanges. `offset` points at the problem. */
export class XmlError extends WechatError {
  declare readonly code: XmlErrorCode;
  readonly offset: number;
  constructor(code: XmlErrorCode, message: string, offset = -1) {
    super(code, offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.offset = offset;
  }
}

/** Details WeChat returned with a refusal or a SYSTEMERROR. */
export interface WechatFailure {
  /** `return_code=FAIL` (communication layer) or `result_code=FAIL` (business layer; v3 errors too). */
  layer: 'return' | 'result';
  /** `err_code` for the business layer; for the communication layer, a code derived from `return_msg`. */
  errCode: string;
  /** `err_code_des` or `return_msg` (v3: `message`), as WeChat wrote it. */
  message: string;
  /** API v3 only: the HTTP status of the error response. */
  httpStatus?: number;
  /** API v3 only: the `detail` object WeChat may add (`field`, `value`, `issue`, `location`). */
  detail?: unknown;
}

/** WeChat refused the call. Do not retry it unchanged. */
export class WechatRejectedError extends WechatError {
  readonly failure: WechatFailure;
  constructor(failure: WechatFailure) {
    super(failure.errCode, `WeChat rejected the call: ${failure.errCode} ${failure.message}`.trim());
    this.failure = failure;
  }
}

/** WeChat answered SYSTEMERROR (or another "try again" code). Retry with byte-identical parameters. */
export class WechatRetryableError extends WechatError {
  readonly failure: WechatFailure;
  constructor(failure: WechatFailure) {
    super(failure.errCode, `WeChat asked for a retry: ${failure.errCode} ${failure.message}`.trim());
    this.failure = failure;
  }
}

export type UnknownOutcomeReason = 'timeout' | 'network' | 'http_status' | 'malformed' | 'bad_signature';

/**
 * We cannot tell whether WeChat applied the call: a timeout, a reset connection, an HTML error
 * page, XML we refuse to parse, or a response whose signature does not verify (never trusted).
 */
export class WechatUnknownOutcomeError extends WechatError {
  readonly reason: UnknownOutcomeReason;
  readonly httpStatus: number | undefined;
  constructor(
    reason: UnknownOutcomeReason,
    message: string,
    options?: { cause?: unknown; httpStatus?: number },
  ) {
    super(`UNKNOWN_OUTCOME_${reason.toUpperCase()}`, message, options);
    this.reason = reason;
    this.httpStatus = options?.httpStatus;
  }
}

/** code2Session failures, mapped from WeChat's `errcode`. */
export type LoginErrorCode =
  | 'INVALID_CODE'
  | 'RATE_LIMITED'
  | 'USER_BLOCKED'
  | 'UPSTREAM_RETRYABLE'
  | 'CONFIG';

export class WechatLoginError extends WechatError {
  declare readonly code: LoginErrorCode;
  /** WeChat's errcode when WeChat answered; undefined for timeouts and network failures. */
  readonly errcode: number | undefined;
  constructor(code: LoginErrorCode, message: string, errcode?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.errcode = errcode;
  }
}

/** Why an incoming notification (payment or refund) was refused. */
export type NotificationErrorCode =
  | XmlErrorCode
  | 'SIGN_ERROR'
  | 'MISSING_FIELD'
  | 'INVALID_FIELD'
  | 'NOT_SUCCESS'
  | 'DECRYPT_ERROR';

/**
 * A notification we refuse to act on. The handler replies FAIL (so WeChat retries a genuine
 * one) and changes nothing. `field` names the offending field for MISSING_FIELD/INVALID_FIELD.
 */
export class NotificationError extends WechatError {
  declare readonly code: NotificationErrorCode;
  readonly field: string | undefined;
  constructor(code: NotificationErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(code, message, options);
    this.field = options?.field;
  }
}

/**
 * May the caller repeat the call with byte-identical parameters (same `out_trade_no`,
 * same `out_refund_no`)? True for WeChat's "try again" answers and for unknown outcomes (a
 * repeat is how an unknown outcome is settled, and WeChat deduplicates by merchant number);
 * false for refusals, which would fail the same way again.
 *
 * @example
 * try { await client.unifiedOrder(input) } catch (err) { if (isRetryable(err)) retryLater(input) }
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof WechatRetryableError || err instanceof WechatUnknownOutcomeError) return true;
  return err instanceof WechatLoginError && err.code === 'UPSTREAM_RETRYABLE';
}
