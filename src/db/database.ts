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
  anomalies: AnomaliesTable;
  payment_evidence: PaymentEvidenceTable;
  reconciliation_reports: ReconciliationReportsTable;
  wechat_notifications: WechatNotificationsTable;
  refunds: RefundsTable;
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
}

export interface OrderEventsTable {
  id: Generated<number>;
  order_id: string;
  type: string;
  /** JSON. */
  data: string;
  created_at: number;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  state: 'in_flight' | 'done';
  response_status: number | null;
  response_body: string | null;
  order_id: string | null;
  created_at: number;
  expires_at: number;
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

/** A stored daily reconciliation report (0005_console); nothing writes one yet. */
export interface ReconciliationReportsTable {
  id: Generated<number>;
  /** YYYY-MM-DD, the bill's date. */
  bill_date: string;
  status: string;
  /** JSON. */
  summary: string;
  created_at: number;
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
  /** What the service did: 'paid', 'duplicate', 'recorded' (refund events). */
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
  /** Who asked: `admin`. */
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
