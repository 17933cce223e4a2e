import { Type } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import type { EventLog } from '../webhooks/event-log.js';
import { EventSchema } from './routes/admin-webhook-schemas.js';

const MAX_LIMIT = 500;

/** `?after=&limit=` of an event-log page, for GET /admin/events and GET /v1/events alike. */
export const EventPageQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
  limit: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,4}$', description: `1 to ${MAX_LIMIT}, 100 by default` }),
  ),
});

export const EventPageSchema = Type.Object({
  events: Type.Array(EventSchema),
  hasMore: Type.Boolean(),
  next: Type.Integer({
    description: 'pass as `after` for the next page (the same as `after` when empty)',
  }),
});

export const EVENT_PAGE_SUMMARY =
  'The event log, oldest first, after the sequence `after` (0 for the start); page with `next` while `hasMore`';

/** One page of the event log: events after `after`, at most `limit`, and where the next page starts. */
export async function readEventPage(events: EventLog, query: { after?: string; limit?: string }) {
  const after = Number(query.after ?? 0);
  const limit = Number(query.limit ?? 100);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new AppError('VALIDATION_ERROR', `limit must be 1 to ${MAX_LIMIT} (it is ${limit}).`);
  }
  const page = await events.list(after, limit);
  return { events: page.events, hasMore: page.hasMore, next: page.events.at(-1)?.sequence ?? after };
}
