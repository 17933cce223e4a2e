import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { WechatRejectedError, WechatRetryableError, WechatUnknownOutcomeError } from '../wechat/errors.js';

/** Waits between attempts: 3 attempts in all, about 0.6 s at worst, well inside a client's patience. */
export const RETRY_DELAYS_MS = [150, 450];

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs an upstream call, retrying SYSTEMERROR and unknown outcomes (timeouts, resets, garbage)
 * with the same arguments: `call` must send identical parameters every time, which is what
 * WeChat asks for (《统一下单》, 《申请退款》: after SYSTEMERROR or a timeout, call again with the same
 * parameters). A rejection is final and is not retried.
 */
export async function withUpstreamRetry<T>(
  api: string,
  call: () => Promise<T>,
  deps: { metrics: Metrics; log: Logger; sleep?: (ms: number) => Promise<void> },
  /** Told about each failed attempt that will be retried (the order's history records them). */
  onRetry?: (err: unknown, attempt: number) => Promise<void>,
): Promise<T> {
  const sleep = deps.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    try {
      const result = await call();
      deps.metrics.upstream(api, 'ok', performance.now() - started);
      return result;
    } catch (err) {
      const outcome =
        err instanceof WechatRejectedError
          ? 'rejected'
          : err instanceof WechatRetryableError
            ? 'retryable'
            : err instanceof WechatUnknownOutcomeError
              ? 'unknown'
              : 'error';
      deps.metrics.upstream(api, outcome, performance.now() - started);
      const delay = RETRY_DELAYS_MS[attempt];
      if ((outcome !== 'retryable' && outcome !== 'unknown') || delay === undefined) throw err;
      deps.log.warn(
        { api, attempt: attempt + 1, code: (err as { code?: string }).code },
        'retrying WeChat call',
      );
      await onRetry?.(err, attempt + 1);
      await sleep(delay);
    }
  }
}
