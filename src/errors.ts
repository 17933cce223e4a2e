/**
 * The service's own error codes. Domain code throws {@link AppError} with a code; only
 * src/http/error-handler.ts turns a code into an HTTP status. docs/errors.md lists every code,
 * and a test checks that the list and this table agree.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNKNOWN_PRODUCT: 400,
  AMOUNT_OUT_OF_RANGE: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  EXPORT_TOO_LARGE: 400,
  NOTIFICATION_MALFORMED: 400,
  NOTIFICATION_MISMATCH: 400,
  NOTIFICATION_PROBE: 400,
  UNAUTHORIZED: 401,
  INVALID_LOGIN_CODE: 401,
  API_KEY_REVOKED: 401,
  NOTIFICATION_UNVERIFIED: 401,
  FORBIDDEN: 403,
  LOGIN_BLOCKED: 403,
  NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  ANOMALY_NOT_FOUND: 404,
  REFUND_NOT_FOUND: 404,
  RECONCILIATION_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  WEBHOOK_ENDPOINT_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_KEY_IN_FLIGHT: 409,
  ORDER_NOT_PENDING: 409,
  ANOMALY_ALREADY_RESOLVED: 409,
  NOTIFICATION_CONFLICT: 409,
  ORDER_NOT_REFUNDABLE: 409,
  REFUND_EXCEEDS_PAID: 409,
  REFUND_LIMIT_REACHED: 409,
  OUT_TRADE_NO_TAKEN: 409,
  WEBHOOK_ENDPOINT_FROM_ENV: 409,
  WEBHOOK_ENDPOINT_DISABLED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  PAYMENT_REJECTED: 502,
  BILL_MALFORMED: 502,
  UPSTREAM_UNAVAILABLE: 503,
  PAYMENT_UNAVAILABLE: 503,
  BILL_NOT_READY: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying, for 429 and 503 answers. */
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.retryAfter = options?.retryAfter;
  }
}
