import type { FastifyInstance } from 'fastify';
import type { EventLog } from '../../webhooks/event-log.js';
import { EVENT_PAGE_SUMMARY, EventPageQuery, EventPageSchema, readEventPage } from '../event-page.js';
import { ErrorResponse } from '../schemas.js';

/**
 * GET /v1/events: the event log for the shop's backend, to catch up after an outage with the
 * same pages as GET /admin/events. Every key sees every event, as every key sees every payment.
 */
export async function v1EventRoutes(app: FastifyInstance, deps: { events: EventLog }): Promise<void> {
  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/v1/events',
    {
      config: { auth: 'apikey' },
      schema: {
        summary: EVENT_PAGE_SUMMARY,
        querystring: EventPageQuery,
        response: { 200: EventPageSchema, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (request) => readEventPage(deps.events, request.query),
  );
}
