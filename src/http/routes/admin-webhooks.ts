import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import {
  ENV_ENDPOINT_ID,
  type EndpointStore,
  eventTypesProblem,
  urlProblem,
  type WebhookEndpoint,
} from '../../webhooks/endpoint-store.js';
import type { EventLog } from '../../webhooks/event-log.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.js';
import { AdminErrors, MaybeText, Time } from '../admin-query.js';
import { DeliverySchema } from './admin-webhook-schemas.js';

export interface AdminWebhookDeps {
  endpoints: EndpointStore;
  events: EventLog;
  clock: Clock;
}

export const EndpointSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Literal('deleted')]),
  disabledReason: MaybeText,
  source: Type.String({ description: 'admin, or env for the endpoint WEBHOOK_URL configures' }),
  previousSecretExpiresAt: Type.Union([Time, Type.Null()]),
  createdAt: Time,
  updatedAt: Time,
});

const WithSecret = Type.Object({
  endpoint: EndpointSchema,
  secret: Type.String({ description: 'whsec_…: shown this once; store it in your receiver' }),
});
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const EventType = Type.Union([...WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t)), Type.Literal('*')]);

function found(endpoint: WebhookEndpoint | undefined, id: string): WebhookEndpoint {
  if (!endpoint)
    throw new AppError(
      'WEBHOOK_ENDPOINT_NOT_FOUND',
      `No webhook endpoint ${id} (GET /admin/webhooks lists them).`,
    );
  return endpoint;
}

function notFromEnv(id: string, action: string): void {
  if (id === ENV_ENDPOINT_ID) {
    throw new AppError(
      'WEBHOOK_ENDPOINT_FROM_ENV',
      `The endpoint ${id} comes from WEBHOOK_URL and WEBHOOK_SECRET: to ${action} it, change or unset them and restart.`,
    );
  }
}

/** Webhook endpoints: list, create (secret shown once), look at, rotate, disable, enable, delete. */
export async function adminWebhookRoutes(app: FastifyInstance, deps: AdminWebhookDeps): Promise<void> {
  const { endpoints, clock } = deps;
  const admin = { config: { auth: 'admin' as const } };
  const security = [{ bearer: [] }];

  app.get(
    '/admin/webhooks',
    {
      ...admin,
      schema: {
        summary: 'Webhook endpoints (deleted ones left out), oldest first; never their secrets',
        security,
        response: { 200: Type.Object({ endpoints: Type.Array(EndpointSchema) }), ...AdminErrors },
      },
    },
    async () => ({ endpoints: await endpoints.list() }),
  );

  app.post<{
    Body: { url: string; description?: string; eventTypes?: (typeof WEBHOOK_EVENT_TYPES)[number][] };
  }>(
    '/admin/webhooks',
    {
      ...admin,
      schema: {
        summary: 'Add an endpoint; the answer holds its signing secret, shown this once',
        security,
        body: Type.Object({
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          description: Type.Optional(Type.String({ maxLength: 200 })),
          eventTypes: Type.Optional(
            Type.Array(EventType, { minItems: 1, maxItems: 16, description: '["*"] (all) by default' }),
          ),
        }),
        response: { 201: WithSecret, ...AdminErrors },
      },
    },
    async (request, reply) => {
      const { url, description, eventTypes } = request.body;
      const problem = urlProblem(url) ?? (eventTypes && eventTypesProblem(eventTypes));
      if (problem) throw new AppError('VALIDATION_ERROR', `${problem}.`);
      const created = await endpoints.create(
        {
          url,
          ...(description !== undefined && { description }),
          ...(eventTypes && { eventTypes: [...new Set(eventTypes)] }),
        },
        clock.now(),
      );
      request.log.info({ endpointId: created.endpoint.id }, 'webhook endpoint created');
      return reply.code(201).send(created);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
    '/admin/webhooks/:id',
    {
      ...admin,
      schema: {
        summary: 'One endpoint and its latest deliveries (newest first), each with its latest attempts',
        security,
        params: Params,
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) }),
        response: {
          200: Type.Object({ endpoint: EndpointSchema, deliveries: Type.Array(DeliverySchema) }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const endpoint = found(await endpoints.findById(request.params.id), request.params.id);
      const limit = Math.min(Math.max(Number(request.query.limit ?? 20), 1), 200);
      return { endpoint, deliveries: await deps.events.deliveriesOf(endpoint.id, limit) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/webhooks/:id/rotate-secret',
    {
      ...admin,
      schema: {
        summary: 'A new secret, shown this once; the old one keeps signing beside it for 24 hours',
        security,
        params: Params,
        response: { 200: WithSecret, ...AdminErrors },
      },
    },
    async (request) => {
      notFromEnv(request.params.id, 'rotate the secret of');
      const rotated = await endpoints.rotateSecret(request.params.id, clock.now());
      found(rotated?.endpoint, request.params.id);
      request.log.info({ endpointId: request.params.id }, 'webhook secret rotated');
      return rotated;
    },
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(
      `/admin/webhooks/:id/${action}`,
      {
        ...admin,
        schema: {
          summary:
            action === 'disable'
              ? 'Stop delivering to an endpoint; its pending deliveries wait, new events skip it'
              : 'Deliver to an endpoint again, including the deliveries that waited',
          security,
          params: Params,
          response: { 200: Type.Object({ endpoint: EndpointSchema }), ...AdminErrors },
        },
      },
      async (request) => {
        const id = request.params.id;
        const endpoint =
          action === 'disable'
            ? await endpoints.disable(id, 'disabled by an operator', clock.now())
            : await endpoints.enable(id, clock.now());
        return { endpoint: found(endpoint, id) };
      },
    );
  }

  app.delete<{ Params: { id: string } }>(
    '/admin/webhooks/:id',
    {
      ...admin,
      schema: {
        summary: 'Delete an endpoint for good: pending deliveries are cancelled; its history stays',
        security,
        params: Params,
        response: { 200: Type.Object({ endpoint: EndpointSchema }), ...AdminErrors },
      },
    },
    async (request) => {
      notFromEnv(request.params.id, 'delete');
      return { endpoint: found(await endpoints.remove(request.params.id, clock.now()), request.params.id) };
    },
  );
}
