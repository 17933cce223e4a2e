import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { IdempotencyClaim, IdempotencyStore } from './idempotency-store.js';

export type { IdempotencyClaim };

/** Idempotency keys are kept 24 hours, as Stripe and WeChat's own retry window suggest. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * An in-flight claim older than this was left by a crash: no request lives longer (three
 * unifiedorder attempts of at most WECHAT_TIMEOUT_MS each, plus back-off).
 */
export const IN_FLIGHT_STALE_MS = 60_000;
/** Keys longer than this are refused before they reach the database (the column is checked too). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** What the work is given: its claim (to record its resource with) and, on a resumed key, that resource. */
export interface IdempotentAttempt {
  claim: IdempotencyClaim;
  /** The order or refund an earlier attempt with this key made; null when there is none. */
  resumeId: string | null;
}

/** What the work answers: the reply to store and replay, and the resource it is about. */
export interface IdempotentResult {
  status: number;
  /** The exact bytes every retry with this key gets. */
  body: string;
  resourceId: string | null;
}

export interface IdempotentReply {
  status: number;
  body: string;
  /** True when this is the stored reply of an earlier request. */
  replayed: boolean;
}

export type Idempotent = (
  scope: string,
  key: string,
  requestHash: string,
  work: (attempt: IdempotentAttempt) => Promise<IdempotentResult>,
) => Promise<IdempotentReply>;

/**
 * The one idempotency engine, for the phone's orders (scope: the user id), the admin's refunds
 * (`admin`) and the server API (`apikey:<id>`). It owns the whole state machine of a key:
 *
 * - new key → claimed `in_flight`, the work runs; its resource is recorded on the key inside the
 *   transaction that saves it (`recordResource`); its reply is stored (`done`) before it is sent;
 * - same key, same body, `done` → the stored reply, byte for byte (`replayed`);
 * - same key, another body → 422 `IDEMPOTENCY_KEY_REUSED`, whatever the state;
 * - same key still `in_flight` → 409 `IDEMPOTENCY_KEY_IN_FLIGHT` with Retry-After, unless the claim
 *   is older than {@link IN_FLIGHT_STALE_MS} (its owner died): then this request takes it over
 *   and resumes the resource the dead one made, if any;
 * - the work fails → the key is `interrupted` when it made a resource (the next retry resumes it
 *   at once) or forgotten when it made nothing;
 * - after {@link IDEMPOTENCY_TTL_MS} the key is forgotten.
 *
 * @example
 * const reply = await idempotent(`apikey:${key.id}`, header, hashRequest(body), async ({ claim, resumeId }) => {
 *   const order = resumeId ? await resume(resumeId) : await create({ ...body, claim });
 *   return { status: 201, body: JSON.stringify(view(order)), resourceId: order.id };
 * });
 */
export function createIdempotency(deps: { store: IdempotencyStore; clock: Clock }): Idempotent {
  const { store, clock } = deps;

  async function begin(
    scope: string,
    key: string,
    requestHash: string,
  ): Promise<IdempotentAttempt | IdempotentReply> {
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      throw new AppError(
        'IDEMPOTENCY_KEY_INVALID',
        `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${key.length}).`,
      );
    }
    // A row can vanish between the claim and the read (forgotten by its failed owner): claim again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = clock.now();
      if (await store.claim({ scope, key, requestHash, now, ttlMs: IDEMPOTENCY_TTL_MS })) {
        return { claim: { scope, key, claimedAt: now }, resumeId: null };
      }
      const row = await store.read(scope, key);
      if (!row || row.expires_at <= now) continue;
      // A different body is a client bug whatever the state: say so rather than "try later".
      if (row.request_hash !== requestHash) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request.',
        );
      }
      if (row.state === 'done') {
        return { status: row.response_status ?? 500, body: row.response_body ?? '', replayed: true };
      }
      const taken = await store.takeOver({
        scope,
        key,
        requestHash,
        staleBefore: now - IN_FLIGHT_STALE_MS,
        now,
      });
      if (taken) return { claim: { scope, key, claimedAt: now }, resumeId: taken.resourceId };
      break;
    }
    throw new AppError(
      'IDEMPOTENCY_KEY_IN_FLIGHT',
      'A request with this Idempotency-Key is still being processed.',
      { retryAfter: 1 },
    );
  }

  return async function idempotent(scope, key, requestHash, work) {
    const begun = await begin(scope, key, requestHash);
    if ('replayed' in begun) return begun;
    let result: IdempotentResult;
    try {
      result = await work(begun);
    } catch (err) {
      // Nothing was promised to the client: keep what was made (to resume), forget the rest.
      await store.fail(begun.claim);
      throw err;
    }
    // Stored before the reply goes out, so a retry after a crash gets these exact bytes.
    await store.complete({ claim: begun.claim, ...result, now: clock.now() });
    return { status: result.status, body: result.body, replayed: false };
  };
}
