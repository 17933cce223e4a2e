import { randomBytes } from 'node:crypto';
import type { Db, WebhookEndpointsTable } from '../db/database.js';
import type { WebhookEventType } from './event-types.js';

export { eventTypesProblem, urlProblem, wants } from './endpoint-rules.js';

/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600 * 1000;

/** The endpoint WEBHOOK_URL and WEBHOOK_SECRET configure. */
export const ENV_ENDPOINT_ID = 'we_env';

export type EndpointStatus = WebhookEndpointsTable['status'];

/** An endpoint as the admin API shows it: never its secrets. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  /** The types it receives; `['*']` for every type. */
  eventTypes: string[];
  status: EndpointStatus;
  disabledReason: string | null;
  /** `admin` (made in the admin API or the console) or `env` (WEBHOOK_URL). */
  source: string;
  /** Until when the secret before the last rotation still signs beside the new one. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** `whsec_` and 32 base64url characters (192 random bits). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

const newEndpointId = () => `we_${randomBytes(12).toString('hex')}`;

export function toEndpoint(row: WebhookEndpointsTable): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: JSON.parse(row.event_types),
    status: row.status,
    disabledReason: row.disabled_reason,
    source: row.source,
    previousSecretExpiresAt:
      row.previous_secret_expires_at === null ? null : new Date(row.previous_secret_expires_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The secrets that sign a POST to this endpoint now: the current one, then the rotated-out one for 24 h. */
export function signingSecrets(
  row: Pick<WebhookEndpointsTable, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>,
  now: number,
): string[] {
  const previous =
    row.previous_secret !== null &&
    row.previous_secret_expires_at !== null &&
    row.previous_secret_expires_at > now
      ? [row.previous_secret]
      : [];
  return [row.secret, ...previous];
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;

/** Webhook endpoints: where events go and the secrets they are signed with. */
export function createEndpointStore(db: Db) {
  const find = (id: string) =>
    db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();

  async function update(
    id: string,
    columns: Partial<WebhookEndpointsTable>,
    from: readonly EndpointStatus[],
  ) {
    const row = await db
      .updateTable('webhook_endpoints')
      .set(columns)
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return row && toEndpoint(row);
  }

  return {
    /** A new enabled endpoint; its secret is returned here once and never shown again. */
    async create(
      input: { url: string; description?: string; eventTypes?: readonly (WebhookEventType | '*')[] },
      now: number,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const secret = newWebhookSecret();
      const row = await db
        .insertInto('webhook_endpoints')
        .values({
          id: newEndpointId(),
          url: input.url,
          description: input.description ?? '',
          secret,
          previous_secret: null,
          previous_secret_expires_at: null,
          event_types: JSON.stringify(input.eventTypes ?? ['*']),
          status: 'enabled',
          disabled_reason: null,
          source: 'admin',
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { endpoint: toEndpoint(row), secret };
    },

    /** Every endpoint not deleted, oldest first. */
    async list(): Promise<WebhookEndpoint[]> {
      const rows = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('status', '!=', 'deleted')
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toEndpoint);
    },

    async findById(id: string): Promise<WebhookEndpoint | undefined> {
      const row = await find(id);
      return row && row.status !== 'deleted' ? toEndpoint(row) : undefined;
    },

    /**
     * A new secret; the old one keeps signing beside it for 24 h, so receivers can switch
     * without a gap. The new secret is returned here once.
     */
    async rotateSecret(
      id: string,
      now: number,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string } | undefined> {
      const current = await find(id);
      if (!current || current.status === 'deleted') return undefined;
      const secret = newWebhookSecret();
      const endpoint = await update(
        id,
        {
          secret,
          previous_secret: current.secret,
          previous_secret_expires_at: now + PREVIOUS_SECRET_TTL_MS,
          updated_at: now,
        },
        ['enabled', 'disabled'],
      );
      return endpoint && { endpoint, secret };
    },

    enable(id: string, now: number): Promise<WebhookEndpoint | undefined> {
      return update(id, { status: 'enabled', disabled_reason: null, updated_at: now }, [
        'enabled',
        'disabled',
      ]);
    },

    disable(id: string, reason: string, now: number): Promise<WebhookEndpoint | undefined> {
      return update(id, { status: 'disabled', disabled_reason: reason, updated_at: now }, [
        'enabled',
        'disabled',
      ]);
    },

    /** Deleted for good: never delivered to again; its history stays for the record. */
    async remove(id: string, now: number): Promise<WebhookEndpoint | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('webhook_endpoints')
          .set({ status: 'deleted', updated_at: now })
          .where('id', '=', id)
          .where('status', '!=', 'deleted')
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await trx
          .updateTable('webhook_deliveries')
          .set({ status: 'cancelled', lease_until: null, lease_owner: null })
          .where('endpoint_id', '=', id)
          .where('status', '=', 'pending')
          .execute();
        return toEndpoint(row);
      });
    },

    /**
     * Makes the WEBHOOK_URL endpoint match the environment at start-up: created when missing,
     * its URL and secret updated when they changed (and then enabled again). Without
     * WEBHOOK_URL, an endpoint left from an earlier configuration is disabled.
     */
    async syncFromEnv(env: { url: string; secret: string } | undefined, now: number): Promise<void> {
      const current = await find(ENV_ENDPOINT_ID);
      if (!env) {
        if (current?.status === 'enabled')
          await update(
            ENV_ENDPOINT_ID,
            { status: 'disabled', disabled_reason: 'WEBHOOK_URL is no longer set', updated_at: now },
            ['enabled'],
          );
        return;
      }
      if (!current) {
        await db
          .insertInto('webhook_endpoints')
          .values({
            id: ENV_ENDPOINT_ID,
            url: env.url,
            description: 'WEBHOOK_URL',
            secret: env.secret,
            previous_secret: null,
            previous_secret_expires_at: null,
            event_types: JSON.stringify(['*']),
            status: 'enabled',
            disabled_reason: null,
            source: 'env',
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        return;
      }
      if (current.url !== env.url || current.secret !== env.secret || current.status === 'deleted') {
        await update(
          ENV_ENDPOINT_ID,
          { url: env.url, secret: env.secret, status: 'enabled', disabled_reason: null, updated_at: now },
          ['enabled', 'disabled', 'deleted'],
        );
      }
    },
  };
}
