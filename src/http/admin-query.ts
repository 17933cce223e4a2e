import { Type } from '@sinclair/typebox';
import type { OrderFilter } from '../admin/order-queries.js';
import { rangeBound } from '../admin/time-range.js';
import { AppError } from '../errors.js';
import { ORDER_STATUSES } from '../orders/order.js';
import { ErrorResponse } from './schemas.js';

/** The most rows one page of any admin list holds; a larger `limit` is a 400, not silently cut. */
export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;
/** The most rows one CSV export holds; more matches is EXPORT_TOO_LARGE (narrow the filters). */
export const MAX_CSV_ROWS = 10_000;

/** PARTIALLY_REFUNDED is listed ahead of the refunds work so the filter's answer does not change when it lands. */
const KNOWN_STATUSES = new Set<string>([...ORDER_STATUSES, 'PARTIALLY_REFUNDED']);

const digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });

export const PagingQuery = {
  page: Type.Optional(digits(6)),
  limit: Type.Optional(digits(6)),
};

export const OrderListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 32 })),
  from: Type.Optional(
    Type.String({ maxLength: 40, description: 'YYYY-MM-DD (Beijing day) or ISO 8601 with zone' }),
  ),
  to: Type.Optional(
    Type.String({ maxLength: 40, description: 'inclusive: a date means through the end of that day' }),
  ),
  minAmount: Type.Optional(digits(10)),
  maxAmount: Type.Optional(digits(10)),
  out_trade_no: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  transaction_id: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  ...PagingQuery,
});

export type RawOrderListQuery = Partial<Record<keyof typeof OrderListQuery.properties, string>>;

/** page (from 1) and limit (1 to MAX_PAGE_LIMIT) as an offset, or a 400 that says which is wrong. */
export function paging(q: { page?: string; limit?: string }): {
  page: number;
  limit: number;
  offset: number;
} {
  const page = q.page === undefined ? 1 : Number(q.page);
  const limit = q.limit === undefined ? DEFAULT_PAGE_LIMIT : Number(q.limit);
  if (page < 1) throw new AppError('VALIDATION_ERROR', 'page starts at 1.');
  if (limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new AppError('VALIDATION_ERROR', `limit must be 1 to ${MAX_PAGE_LIMIT}.`);
  }
  return { page, limit, offset: (page - 1) * limit };
}

export function orderFilter(q: RawOrderListQuery): OrderFilter {
  if (q.status !== undefined && !KNOWN_STATUSES.has(q.status)) {
    throw new AppError('VALIDATION_ERROR', `status must be one of ${[...KNOWN_STATUSES].join(', ')}.`);
  }
  const f: OrderFilter = {
    ...(q.status !== undefined && { status: q.status }),
    ...(q.from !== undefined && { from: rangeBound(q.from, 'from') }),
    ...(q.to !== undefined && { to: rangeBound(q.to, 'to') }),
    ...(q.minAmount !== undefined && { minAmount: Number(q.minAmount) }),
    ...(q.maxAmount !== undefined && { maxAmount: Number(q.maxAmount) }),
    ...(q.out_trade_no !== undefined && { outTradeNo: q.out_trade_no }),
    ...(q.transaction_id !== undefined && { transactionId: q.transaction_id }),
  };
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to) {
    throw new AppError('VALIDATION_ERROR', 'from must be before to.');
  }
  if (f.minAmount !== undefined && f.maxAmount !== undefined && f.minAmount > f.maxAmount) {
    throw new AppError('VALIDATION_ERROR', 'minAmount must not be above maxAmount (both in fen).');
  }
  return f;
}

/** Shared pieces of the admin routes' schemas. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
export const Time = Type.String({ format: 'date-time' });
export const MaybeText = Type.Union([Type.String(), Type.Null()]);
export const AdminErrors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
