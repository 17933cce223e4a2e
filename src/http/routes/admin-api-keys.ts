import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiKey, ApiKeys } from '../../api-keys/api-keys.js';
import { ErrorResponse } from '../schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const ApiKeySchema = Type.Object({
  id: Type.String({ description: 'key_…: what logs and `weapp-pay keys revoke` name' }),
  name: Type.String(),
  lastFour: Type.String({ description: 'The last four characters of the key, to recognise it' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'Within a minute',
  }),
  revokedAt: Time,
});

export function apiKeyView(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    lastFour: k.lastFour,
    createdAt: new Date(k.createdAt).toISOString(),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

/** The /v1 API keys in the admin API: list, create (the key is in that one answer only), revoke. */
export async function adminApiKeyRoutes(app: FastifyInstance, deps: { apiKeys: ApiKeys }): Promise<void> {
  const { apiKeys } = deps;
  const errors = { '4xx': ErrorResponse };

  app.get(
    '/admin/api-keys',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Every /v1 API key, newest first (never the key: its last four characters)',
        response: { 200: Type.Object({ apiKeys: Type.Array(ApiKeySchema) }), ...errors },
      },
    },
    async () => ({ apiKeys: (await apiKeys.list()).map(apiKeyView) }),
  );

  app.post<{ Body: { name: string } }>(
    '/admin/api-keys',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Create a /v1 API key; the answer is the only time the key is shown',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          201: Type.Object({
            key: Type.String({ description: 'wpk_…: store it now, it is not kept' }),
            apiKey: ApiKeySchema,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { key, apiKey } = await apiKeys.create(request.body.name);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ key, apiKey: apiKeyView(apiKey) });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/api-keys/:id/revoke',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Revoke a /v1 API key for good (revoking it again keeps the first time)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Type.Object({ apiKey: ApiKeySchema }), ...errors },
      },
    },
    async (request) => ({ apiKey: apiKeyView(await apiKeys.revoke(request.params.id)) }),
  );
}
