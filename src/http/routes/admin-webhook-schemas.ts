import { Type } from '@sinclair/typebox';
import { MaybeText, Time } from '../admin-query.js';

const MaybeInteger = Type.Union([Type.Integer(), Type.Null()]);

export const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  startedAt: Time,
  latencyMs: Type.Integer(),
  statusCode: MaybeInteger,
  responseBody: Type.Union([Type.String({ description: 'the first 1 KB of the answer' }), Type.Null()]),
  error: MaybeText,
  ok: Type.Boolean(),
});

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  eventId: Type.String(),
  eventType: Type.String(),
  endpointId: Type.String(),
  status: Type.String({ description: 'pending, succeeded, failed (after 3 days) or cancelled' }),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Time, Type.Null()]),
  lastStatus: MaybeInteger,
  lastError: MaybeText,
  succeededAt: Type.Union([Time, Type.Null()]),
  createdAt: Time,
  recentAttempts: Type.Array(AttemptSchema, { description: 'newest first, at most 5' }),
});

export const EventSchema = Type.Object({
  sequence: Type.Union([Type.Integer(), Type.Null()], {
    description: 'place in the event log; null for a moment after the commit, until the deliverer lists it',
  }),
  id: Type.String(),
  type: Type.String(),
  created: Type.Integer({ description: 'Unix seconds' }),
  livemode: Type.Boolean(),
  data: Type.Object({ object: Type.Unknown() }),
});
