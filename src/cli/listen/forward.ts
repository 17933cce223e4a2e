import { randomBytes } from 'node:crypto';
import { type PostResult, postWebhook } from '../../webhooks/post-webhook.js';
import { SIGNATURE_HEADER, signatureHeader } from '../../webhooks/signature.js';

const TIMEOUT_MS = 10_000;

/** A secret for this `weapp-pay listen` session only, in the endpoints' `whsec_` form. */
export function newSessionSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/**
 * Re-sends one event to the local receiver as the service's deliverer would: the same body, a
 * `Weapp-Pay-Signature` made with the session secret, the same 10 s limit and 2xx rule.
 */
export function forwardEvent(url: string, secret: string, body: string): Promise<PostResult> {
  return postWebhook({
    url,
    body,
    timeoutMs: TIMEOUT_MS,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'weapp-pay-listen',
      [SIGNATURE_HEADER]: signatureHeader(body, [secret], Math.floor(Date.now() / 1000)),
    },
  });
}

/** `http://localhost:4242/webhooks` must be an http(s) URL: the message says what is wrong, or undefined. */
export function forwardUrlProblem(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return undefined;
  } catch {
    // Reported below.
  }
  return `--forward-to must be an http(s) URL, e.g. --forward-to http://localhost:4242/webhooks (it is ${JSON.stringify(url)})`;
}
