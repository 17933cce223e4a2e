import type { Generated, Kysely } from 'kysely';

/**
 * The schema as Kysely sees it. Column names are the SQL names (snake_case); stores map rows to
 * the camelCase domain types. Times are epoch milliseconds stored as BIGINT and read back as
 * `number` on both dialects (PostgreSQL's int8 parser is set to Number in open.ts; every value
 * we store stays far below 2^53). JSON columns are TEXT holding JSON, the same on both dialects.
 */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  api_keys: ApiKeysTable;
  anomalies: AnomaliesTable;
  payment_evidence: PaymentEvidenceTable;
  reconciliation_reports: ReconciliationReportsTable;
  wechat_notifications: WechatNotificationsTable;
  refunds: RefundsTable;
  scheduled_runs: ScheduledRunsTable;
  webhook_events: WebhookEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_outbox_start: WebhookOutboxStartTable;
}

export type Db = Kysely<Database>;

export type SqlDialect = 'sqlite' | 'postgres';

export interface UsersTable {
  id: string;
  openid: string;
  unionid: string | null;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  /** sha256 hex of the token: a leaked table does not hand out live sessions. */
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface OrdersTable {
  id: string;
  user_id: string;
  openid: string;
  out_trade_no: string;
  sku: string;
  quantity: number;
  description: string;
  amount: number;
  currency: string;
  status: string;
  /** JSON object of the unifiedorder fields, written once and reused byte for byte on retry. */
  prepay_request: string | null;
  prepay_id: string | null;
  prepay_expires_at: number | null;
  transaction_id: string | null;
  paid_at: number | null;
  paid_source: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  last_queried_at: number | null;
  lease_until: number | null;
  lease_owner: string | null;
  /** Fen reserved for refunds: every refund of the order that is not CLOSED. Never above amount. */
  refunded_fen: number;
  /** Refunds asked for, CLOSED ones included (WeChat counts them too). At most 50. */
  refund_count: number;
  /** The API key that created the payment through /v1 (0007_api_keys); NULL for catalogue orders. */
  api_key_id?: string | null;
  /** /v1: the shop's metadata, a JSON object of strings. */
  metadata?: string | null;
  /** /v1: WeChat's `attach`, echoed back in queries and notifications. */
  attach?: string | null;
  /** /v1: the URL the shop asked to be told about this payment at. */
  notify_url?: string | null;
}

export interface OrderEventsTable {
  id: Generated<number>;
  order_id: string;
  type: string;
  /** JSON. */
  data: string;
  created_at: number;
}

/** One Idempotency-Key in its scope (migration 0007_api_keys); src/idempotency/ owns its rules. */
export interface IdempotencyKeysTable {
  /** Whose key: a user id (the phone), `admin`, or `apikey:<id>`. */
  scope: string;
  key: string;
  request_hash: string;
  state: 'in_flight' | 'interrupted' | 'done';
  /** The order or refund the key made, written in the same transaction that saved it. */
  resource_id: string | null;
  /** When the current attempt claimed the key; a take-over moves it, and it fences late writes. */
  claimed_at: number;
  completed_at: number | null;
  /** The key is forgotten after this (24 hours after its first claim). */
  expires_at: number;
  response_status: number | null;
  response_body: string | null;
}

/** A /v1 API key (0007_api_keys). The key itself is never stored: only its SHA-256. */
export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 hex of the whole key (`wpk_…`). */
  key_hash: string;
  last_four: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AnomaliesTable {
  id: Generated<number>;
  kind: string;
  ref: string;
  order_id: string | null;
  /** JSON. */
  data: string;
  created_at: number;
  /** Set once, by POST /admin/anomalies/:id/resolve (0005_console). */
  resolved_at: number | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

/** A stored daily reconciliation report (0005_console), one per bill date (src/reconcile/). */
export interface ReconciliationReportsTable {
  id: Generated<number>;
  /** YYYY-MM-DD, the bill's date. */
  bill_date: string;
  /** clean, settled or needs_attention (src/reconcile/report.ts). */
  status: string;
  /** JSON: the whole report, findings included. */
  summary: string;
  created_at: number;
  /** When a rerun last replaced the report (0006_reconciliation); null until one does. */
  updated_at: number | null;
}

/** A scheduled job's run, claimed by one instance (0006_reconciliation). */
export interface ScheduledRunsTable {
  job: string;
  /** Which run: the bill date for the daily reconciliation. */
  run_key: string;
  owner: string;
  /** Another instance may take the run over once this has passed and it is not finished. */
  lease_until: number;
  attempts: number;
  last_error: string | null;
  started_at: number;
  finished_at: number | null;
}

/** One row per verified payment (transaction_id), whatever the order's state when it arrived. */
export interface PaymentEvidenceTable {
  transaction_id: string;
  order_id: string;
  out_trade_no: string;
  source: string;
  total_fee: number;
  cash_fee: number | null;
  currency: string;
  appid: string;
  mch_id: string;
  paid_at: number | null;
  time_end: string | null;
  /** The order's status when this evidence was recorded. */
  order_status: string;
  /** JSON object of every verified field. */
  raw: string;
  received_at: number;
}

/** API v3 notifications by id (migration 0003_api_v3). */
export interface WechatNotificationsTable {
  id: string;
  event_type: string;
  out_trade_no: string | null;
  /**
   * What the service did: 'paid', 'refund_settled', 'duplicate'; 'recorded' on refund events
   * handled before refunds were applied from v3 notifications.
   */
  outcome: string;
  /** JSON: for refund events the decrypted resource, for payments `{}`. */
  data: string;
  received_at: number;
}

/** One refund of an order; out_refund_no is fixed when the row is written, before WeChat hears of it. */
export interface RefundsTable {
  id: string;
  order_id: string;
  out_refund_no: string;
  amount: number;
  reason: string;
  /** PROCESSING, SUCCESS, CHANGE (abnormal) or CLOSED. */
  status: string;
  /** WeChat's refund_id, once WeChat accepted the refund. */
  refund_id: string | null;
  /** Why the last call about this refund did not settle it (NOTENOUGH, a timeout, a rejection). */
  last_error: string | null;
  /** Refund calls sent to WeChat for this out_refund_no. */
  attempts: number;
  /** Who asked: `admin`, or `apikey:<id>` for a refund through /v1. */
  requested_by: string;
  created_at: number;
  updated_at: number;
  settled_at: number | null;
  last_queried_at: number | null;
  lease_until: number | null;
  lease_owner: string | null;
}

/** The outbox (0008_webhooks): one row per event, written with the state change that causes it. */
export interface WebhookEventsTable {
  seq: Generated<number>;
  /** `evt_…`, fixed at the write; receivers deduplicate on it. */
  id: string;
  type: string;
  /** 1 when the service talks to WeChat's real hosts, 0 against the simulator. */
  livemode: number;
  /** The exact JSON body every delivery sends. */
  body: string;
  order_id: string | null;
  refund_id: string | null;
  created_at: number;
  /** Place in the event log, given at fan-out in commit order; null until then. */
  position: number | null;
  dispatched_at: number | null;
}

export interface WebhookEndpointsTable {
  /** `we_…`; `we_env` is the one WEBHOOK_URL configures. */
  id: string;
  url: string;
  description: string;
  /** `whsec_…`: kept so the service can sign (see docs/service.md on how it is protected). */
  secret: string;
  /** The secret before the last rotation, still signing until previous_secret_expires_at. */
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  /** JSON array of event types, or ["*"] for every type. */
  event_types: string;
  status: 'enabled' | 'disabled' | 'deleted';
  disabled_reason: string | null;
  /** 'admin' (admin API, console) or 'env' (WEBHOOK_URL). */
  source: string;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  event_seq: number;
  endpoint_id: string;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  created_at: number;
  /** After this, a failure ends the delivery (3 days after it was made or resent). */
  give_up_at: number;
  next_attempt_at: number;
  lease_until: number | null;
  lease_owner: string | null;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  succeeded_at: number | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  /** The instance that made it. */
  owner: string;
  started_at: number;
  latency_ms: number;
  status_code: number | null;
  /** The first 1 KB of the answer. */
  response_body: string | null;
  error: string | null;
  ok: number;
}

/** One row: the last order event and anomaly id written before 0008_webhooks (0 on a new database). */
export interface WebhookOutboxStartTable {
  order_event_id: number;
  anomaly_id: number;
}
