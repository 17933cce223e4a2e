/** What an endpoint may be: the checks the admin API and WEBHOOK_URL share. */
import { WEBHOOK_EVENT_TYPES } from './event-types.js';

/** Whether an endpoint subscribed to `types` receives events of `type`. */
export function wants(types: readonly string[], type: string): boolean {
  return types.includes('*') || types.includes(type);
}

/** Why a URL cannot be an endpoint, or undefined when it can. */
export function urlProblem(url: string): string | undefined {
  if (url.length > 2048) return 'the URL is longer than 2048 characters';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not an absolute URL`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return 'the URL must start with https:// or http://';
  if (parsed.username || parsed.password) return 'the URL must not hold a user name or password';
  return undefined;
}

/** Why a list of event types cannot be subscribed to, or undefined when it can. */
export function eventTypesProblem(types: readonly string[]): string | undefined {
  if (types.length === 0) return 'name at least one event type, or "*" for all';
  const unknown = types.filter((t) => t !== '*' && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0)
    return `unknown event types: ${unknown.join(', ')} (known: ${WEBHOOK_EVENT_TYPES.join(', ')})`;
  return undefined;
}
