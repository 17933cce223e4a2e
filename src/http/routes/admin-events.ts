import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import type { DeliveryStore } from '../../webhooks/delivery-store.js';
import type { EndpointStore } from '../../webhooks/endpoint-store.js';
import type { EventLog } from '../../webhooks/event-log.js';
import { AdminErrors } from '../admin-query.js';
import { EVENT_PAGE_SUMMARY, EventPageQuery, EventPageSchema, readEventPage } from '../event-page.js';
import { DeliverySchema, EventSchema } from './admin-webhook-schemas.js';

export interface AdminEventDeps {
  events: EventLog;
  endpoints: EndpointStore;
  resend: DeliveryStore['resend'];
  /** Starts delivery now rather than at the next interval. */
  wake(): void;
  clock: Clock;
}

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * The event log, for catching up after an outage (GET /admin/events?after=), one event with its
 * deliveries, and resending an event. `weapp-pay events resend ID` calls the resend route.
 */
export async function adminEventRoutes(app: FastifyInstance, deps: AdminEventDeps): Promise<void> {
  const admin = { config: { auth: 'admin' as const } };
  const security = [{ bearer: [] }];

  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/admin/events',
    {
      ...admin,
      schema: {
        summary: EVENT_PAGE_SUMMARY,
        security,
        querystring: EventPageQuery,
        response: { 200: EventPageSchema, ...AdminErrors },
      },
    },
    async (request) => readEventPage(deps.events, request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/admin/events/:id',
    {
      ...admin,
      schema: {
        summary: 'One event, with every delivery and their latest attempts',
        security,
        params: Params,
        response: {
          200: Type.Object({ event: EventSchema, deliveries: Type.Array(DeliverySchema) }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const found = await deps.events.find(request.params.id);
      if (!found)
        throw new AppError(
          'EVENT_NOT_FOUND',
          `No event ${request.params.id} (GET /admin/events lists them).`,
        );
      return found;
    },
  );

  app.post<{ Params: { id: string }; Body: { endpointId?: string } | undefined }>(
    '/admin/events/:id/resend',
    {
      ...admin,
      // No body at all (the CLI's plain POST) means every endpoint; the schema wants an object.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      schema: {
        summary:
          'Send an event again now, with the same id: to one endpoint, or to every enabled endpoint that wants its type',
        security,
        params: Params,
        body: Type.Optional(
          Type.Object({ endpointId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
        ),
        response: {
          202: Type.Object({
            eventId: Type.String(),
            deliveries: Type.Array(Type.Object({ endpointId: Type.String(), deliveryId: Type.Integer() })),
          }),
          ...AdminErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const endpointId = request.body?.endpointId;
      if (endpointId !== undefined) {
        const endpoint = await deps.endpoints.findById(endpointId);
        if (!endpoint) throw new AppError('WEBHOOK_ENDPOINT_NOT_FOUND', `No webhook endpoint ${endpointId}.`);
        if (endpoint.status !== 'enabled') {
          throw new AppError(
            'WEBHOOK_ENDPOINT_DISABLED',
            `The endpoint ${endpointId} is disabled: enable it first (POST /admin/webhooks/${endpointId}/enable).`,
          );
        }
      }
      const deliveries = await deps.resend(id, deps.clock.now(), endpointId);
      if (!deliveries)
        throw new AppError('EVENT_NOT_FOUND', `No event ${id} (GET /admin/events lists them).`);
      deps.wake();
      request.log.info({ eventId: id, endpoints: deliveries.length }, 'webhook event resent');
      return reply.code(202).send({ eventId: id, deliveries });
    },
  );
}
