import type { Dispatcher } from 'undici';

/** What the caller makes of each step of one exchange; a step may throw to reject it. */
export interface ExchangeSteps<T> {
  /** The final status and headers arrived (called again only after a 1xx). */
  onHeaders?(status: number, headers: Record<string, string | string[] | undefined>): void;
  /** A chunk of the answer. A result (or a throw) settles the exchange now and aborts the rest. */
  onData(chunk: Buffer): T | undefined;
  /** The whole answer arrived. */
  onEnd(): T;
  /** The exchange failed (connect, reset, undici's own timeouts) before it settled. */
  onError(err: Error): T;
  /** The deadline passed before it settled. */
  onTimeout(): T;
}

/**
 * One HTTP exchange over an undici dispatcher, with one deadline covering the wait for a socket,
 * the connect, the headers and the body, settled exactly once.
 *
 * Why the dispatch API and not `dispatcher.request`: the promise API wraps every call in an
 * AbortSignal listener and a Readable body, which cost more CPU than a small loopback exchange
 * itself (docs/performance.md, "Fifth pass"). And an abort through a signal acts only once undici
 * has given the request a socket; here the deadline settles the call when it passes, and the
 * abort follows as soon as there is something to abort.
 *
 * @example
 * const text = await exchange(agent, { origin, path: '/', method: 'GET' }, 5000, {
 *   onData: (chunk) => void chunks.push(chunk),
 *   onEnd: () => Buffer.concat(chunks).toString('utf8'),
 *   onError: (err) => { throw err; },
 *   onTimeout: () => { throw new Error('no answer within 5 s'); },
 * });
 */
export function exchange<T>(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  timeoutMs: number,
  steps: ExchangeSteps<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    // Settles with what `step` returns or throws; returns whether it settled.
    const settle = (step: () => T | undefined): boolean => {
      if (settled) return true;
      let result: T | undefined;
      try {
        result = step();
        if (result === undefined) return false;
        resolve(result);
      } catch (err) {
        reject(err);
      }
      settled = true;
      clearTimeout(timer);
      return true;
    };
    // Settled first: an abort calls onResponseError at once, which must find the exchange over.
    const timer = setTimeout(() => {
      settle(() => steps.onTimeout());
      controller?.abort(new Error('deadline passed'));
    }, timeoutMs);
    dispatcher.dispatch(
      { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...options },
      {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(new Error('deadline passed'));
        },
        onResponseStart(_c, status, headers) {
          steps.onHeaders?.(status, headers);
        },
        onResponseData(c, chunk) {
          if (settle(() => steps.onData(chunk))) c.abort(new Error('answer no longer wanted'));
        },
        onResponseEnd() {
          settle(() => steps.onEnd());
        },
        onResponseError(_c, err) {
          settle(() => steps.onError(err));
        },
      },
    );
  });
}
