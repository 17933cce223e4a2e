import type { Clock } from '../clock.js';
import type { ApiKeysTable, Db } from '../db/database.js';
import { AppError } from '../errors.js';
import { API_KEY_PATTERN, apiKeyHash, newApiKey, newApiKeyId, sameHash } from './api-key.js';

/** An API key as it is listed: never the key, only its last four characters. */
export interface ApiKey {
  id: string;
  name: string;
  lastFour: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Who a /v1 request is: the key's id (logged) and name. */
export interface ApiKeyCaller {
  id: string;
  name: string;
}

/** `last_used_at` is written at most this often per key, so a busy key does not cost a commit per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const NAME_MAX = 64;

function toApiKey(row: ApiKeysTable): ApiKey {
  return {
    id: row.id,
    name: row.name,
    lastFour: row.last_four,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;

/**
 * The shop's API keys for /v1: created (the key is shown once), listed, revoked, and checked on
 * every request. Used by `weapp-pay keys`, the admin API and the API-key auth hook alike.
 */
export function createApiKeys(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  return {
    /** A new key: the returned `key` is the only time it exists outside the caller's hands. */
    async create(name: string): Promise<{ key: string; apiKey: ApiKey }> {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > NAME_MAX) {
        throw new AppError(
          'VALIDATION_ERROR',
          `A key's name must be 1 to ${NAME_MAX} characters, e.g. "shop-backend" (got ${trimmed.length}).`,
        );
      }
      const key = newApiKey();
      const row: ApiKeysTable = {
        id: newApiKeyId(),
        name: trimmed,
        key_hash: apiKeyHash(key),
        last_four: key.slice(-4),
        created_at: clock.now(),
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto('api_keys').values(row).execute();
      return { key, apiKey: toApiKey(row) };
    },

    /** Every key, newest first, revoked ones included. */
    async list(): Promise<ApiKey[]> {
      const rows = await db
        .selectFrom('api_keys')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toApiKey);
    },

    /** Revokes a key for good; revoking it again keeps the first time. */
    async revoke(id: string): Promise<ApiKey> {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: clock.now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new AppError('API_KEY_NOT_FOUND', `There is no API key ${JSON.stringify(id)}.`);
      return toApiKey(row);
    },

    /**
     * The caller a Bearer key belongs to, or a 401 that says what is wrong. The key is looked up
     * by its SHA-256 and the stored hash compared in constant time.
     */
    async authenticate(key: string): Promise<ApiKeyCaller> {
      if (!API_KEY_PATTERN.test(key)) {
        throw new AppError(
          'UNAUTHORIZED',
          'This route takes an API key: Authorization: Bearer wpk_… (create one with `weapp-pay keys create --name NAME`).',
        );
      }
      const hash = apiKeyHash(key);
      const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
      if (!row || !sameHash(row.key_hash, hash)) {
        throw new AppError('UNAUTHORIZED', 'This API key is not known here; check it, or create one.');
      }
      if (row.revoked_at !== null) {
        throw new AppError(
          'API_KEY_REVOKED',
          `API key ${row.id} (${row.name}) was revoked at ${new Date(row.revoked_at).toISOString()}; use another key.`,
        );
      }
      const now = clock.now();
      if (row.last_used_at === null || row.last_used_at <= now - LAST_USED_RESOLUTION_MS) {
        await db
          .updateTable('api_keys')
          .set({ last_used_at: now })
          .where('id', '=', row.id)
          .where((eb) =>
            eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - LAST_USED_RESOLUTION_MS)]),
          )
          .execute();
      }
      return { id: row.id, name: row.name };
    },
  };
}
