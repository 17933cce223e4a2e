import { AppError } from '../errors.js';
import { OUT_TRADE_NO_PATTERN, utf8ByteLength } from '../wechat/v2/fields.js';
import { V3_OUT_TRADE_NO_PATTERN } from '../wechat/v3/requests.js';

/** The body of `POST /v1/payments`, as the route's schema lets it through. */
export interface NewPaymentBody {
  amount: number;
  description: string;
  openid: string;
  out_trade_no?: string;
  attach?: string;
  metadata?: Record<string, string>;
  expires_in?: number;
  notify?: string;
}

/** The fields `POST /v1/payments` takes; any other is refused rather than silently dropped. */
export const NEW_PAYMENT_FIELDS: readonly string[] = [
  'amount',
  'description',
  'openid',
  'out_trade_no',
  'attach',
  'metadata',
  'expires_in',
  'notify',
];

/** WeChat's `body`/`description` and `attach` limits, in UTF-8 bytes (《统一下单》, 《JSAPI下单》). */
export const DESCRIPTION_MAX_BYTES = 127;
export const ATTACH_MAX_BYTES = 127;
/** Stripe's metadata limits, smaller in count so a full set fits in the 16 KiB body. */
export const METADATA_MAX_KEYS = 20;
export const METADATA_KEY_MAX = 40;
export const METADATA_VALUE_MAX = 500;
/** WeChat raises a deadline under a minute to a minute; ORDER_TTL_SECONDS has the same bounds. */
export const EXPIRES_IN_MIN_SECONDS = 60;
export const EXPIRES_IN_MAX_SECONDS = 7 * 86_400;

/**
 * out_trade_no as WeChat takes it: 6 to 32 characters of letters, digits and `_-*`, plus `|` on
 * API v2 (the v3 merchant page does not list the pipe, so it is refused there). The protocol
 * layer's own patterns, so the shop is refused here exactly when WeChat would refuse it.
 */
export function outTradeNoRule(version: 'v2' | 'v3'): RegExp {
  return version === 'v2' ? OUT_TRADE_NO_PATTERN : V3_OUT_TRADE_NO_PATTERN;
}

function invalid(message: string): AppError {
  return new AppError('VALIDATION_ERROR', message);
}

/**
 * The checks the JSON schema cannot express: byte lengths, the out_trade_no alphabet of the API
 * version in use, metadata's shape, the notify URL. Throws a VALIDATION_ERROR naming the field.
 */
export function checkNewPayment(
  body: NewPaymentBody,
  rules: { version: 'v2' | 'v3'; maxOrderAmount: number },
): void {
  if (body.amount > rules.maxOrderAmount) {
    throw new AppError(
      'AMOUNT_OUT_OF_RANGE',
      `amount must be between 1 and ${rules.maxOrderAmount} fen (MAX_ORDER_AMOUNT_FEN); it is ${body.amount}.`,
    );
  }
  if (body.description.trim() === '') throw invalid('description must not be blank.');
  if (utf8ByteLength(body.description) > DESCRIPTION_MAX_BYTES) {
    throw invalid(
      `description is ${utf8ByteLength(body.description)} UTF-8 bytes; WeChat takes at most ${DESCRIPTION_MAX_BYTES} (about 42 Chinese characters).`,
    );
  }
  if (body.out_trade_no !== undefined && !outTradeNoRule(rules.version).test(body.out_trade_no)) {
    throw invalid(
      `out_trade_no must be 6 to 32 characters of letters, digits and _-*${rules.version === 'v2' ? '|' : ''} (WeChat's rule).`,
    );
  }
  if (body.attach !== undefined && utf8ByteLength(body.attach) > ATTACH_MAX_BYTES) {
    throw invalid(
      `attach is ${utf8ByteLength(body.attach)} UTF-8 bytes; WeChat takes at most ${ATTACH_MAX_BYTES}.`,
    );
  }
  const keys = Object.keys(body.metadata ?? {});
  if (keys.length > METADATA_MAX_KEYS)
    throw invalid(`metadata has ${keys.length} keys; at most ${METADATA_MAX_KEYS}.`);
  const longKey = keys.find((k) => k.length === 0 || k.length > METADATA_KEY_MAX);
  if (longKey !== undefined) {
    throw invalid(
      `metadata keys must be 1 to ${METADATA_KEY_MAX} characters; ${JSON.stringify(longKey)} is not.`,
    );
  }
  if (body.notify !== undefined) checkNotifyUrl(body.notify);
}

function checkNotifyUrl(notify: string): void {
  let url: URL;
  try {
    url = new URL(notify);
  } catch {
    throw invalid('notify must be an absolute URL, e.g. https://shop.example/weapp-pay/events.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(`notify must be an http or https URL, not ${url.protocol}`);
  }
  if (url.username || url.password) throw invalid('notify must not carry a user name or password.');
}
