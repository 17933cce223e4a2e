import { editDistance } from '../../config.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.js';

/**
 * `--events a,b` as a list of known webhook event types, or the message that refuses it: an
 * unknown name is named with the nearest known one, since a typo would otherwise match nothing.
 */
export function parseEventNames(text: string): { names: string[] } | { error: string } {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0)
    return { error: `--events needs at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}` };
  for (const name of names) {
    if ((WEBHOOK_EVENT_TYPES as readonly string[]).includes(name)) continue;
    const nearest = [...WEBHOOK_EVENT_TYPES].sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
    const hint = nearest && editDistance(name, nearest) <= 4 ? ` (did you mean ${nearest}?)` : '';
    return {
      error: `unknown event type ${JSON.stringify(name)}${hint}; the types are ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    };
  }
  return { names: [...new Set(names)] };
}
