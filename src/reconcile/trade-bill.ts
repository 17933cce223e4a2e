/**
 * WeChat Pay's trade bill (《下载交易账单》 for API v2, 《申请交易账单》 for v3: the same text), parsed
 * into payments and refunds. The format: a header line of Chinese column names, one line per
 * row with every value prefixed by a backtick (so a spreadsheet keeps long numbers as text),
 * then a summary header (总交易单数,…) and one summary line. Amounts are yuan with two decimals,
 * times are Beijing time. Columns are found by name, so the ALL, SUCCESS and REFUND layouts all
 * parse.
 */

/** A paid order as the bill lists it (交易状态 SUCCESS). Amounts are integer fen. */
export interface BillPayment {
  outTradeNo: string;
  transactionId: string;
  /** 订单金额: what the order was for (应结订单金额 when the bill has no 订单金额 column). */
  amount: number;
  /** Epoch ms of 交易时间. */
  at: number;
  /** 1-based line of the bill text, for a person checking by hand. */
  line: number;
}

/** WeChat's refund states as the bill writes them (退款状态). */
export type BillRefundStatus = 'SUCCESS' | 'PROCESSING' | 'REFUNDCLOSE' | 'CHANGE';
const REFUND_STATUSES: readonly string[] = ['SUCCESS', 'PROCESSING', 'REFUNDCLOSE', 'CHANGE'];

/** A refund as the bill lists it (交易状态 REFUND). */
export interface BillRefund {
  outTradeNo: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
  /** 申请退款金额: what was asked for (退款金额 when the bill has no 申请退款金额 column). */
  amount: number;
  status: BillRefundStatus;
  at: number;
  line: number;
}

export interface TradeBill {
  payments: BillPayment[];
  refunds: BillRefund[];
  /** The bill's own totals line: rows, 应结订单总金额 and 退款总金额 in fen. */
  summary: { rows: number; settlementTotal: number; refundTotal: number };
  /** The same three, added up from the rows: a difference means a damaged or cut-off bill. */
  counted: { rows: number; settlementTotal: number; refundTotal: number };
}

export class TradeBillFormatError extends Error {
  readonly code = 'TRADE_BILL_MALFORMED';
}

const COLUMNS = {
  time: '交易时间',
  transactionId: '微信订单号',
  outTradeNo: '商户订单号',
  tradeState: '交易状态',
  settlement: '应结订单金额',
  total: '订单金额',
  refundId: '微信退款单号',
  outRefundNo: '商户退款单号',
  refund: '退款金额',
  refundAsked: '申请退款金额',
  refundStatus: '退款状态',
} as const;

const SUMMARY = { rows: '总交易单数', settlement: '应结订单总金额', refund: '退款总金额' } as const;

/** 1234 fen → `12.34`, as the bill writes yuan. */
export function fenToYuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `12.34` → 1234 fen; refuses anything that is not yuan with at most two decimals. */
export function yuanToFen(text: string): number | undefined {
  const m = /^(-?)(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0'));
  return m[1] === '-' ? -fen : fen;
}

/** `2024-01-01 12:05:30` (Beijing) → epoch ms. */
function beijingTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h - 8, mi, s);
}

/** One data line's values: each is prefixed with a backtick, so `,\`` separates them even when a product name holds a comma. */
function cellsOf(text: string, lineNo: number): string[] {
  if (!text.startsWith('`')) throw new TradeBillFormatError(`line ${lineNo}: a value without its backtick`);
  return text.slice(1).split(',`');
}

/**
 * Parses a trade bill's text (BOM already removed by the client).
 *
 * @example
 * parseTradeBill('交易时间,微信订单号,商户订单号,交易状态,应结订单金额\r\n' +
 *   '`2024-01-01 12:05:30,`4200000001,`ORDER_1,`SUCCESS,`28.00\r\n' +
 *   '总交易单数,应结订单总金额,退款总金额\r\n`1,`28.00,`0.00\r\n')
 * // { payments: [{ outTradeNo: 'ORDER_1', transactionId: '4200000001', amount: 2800, … }], refunds: [], … }
 */
export function parseTradeBill(text: string): TradeBill {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const header = lines[0]?.split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  for (const required of [COLUMNS.time, COLUMNS.outTradeNo, COLUMNS.tradeState, COLUMNS.settlement]) {
    if (col(required) < 0) throw new TradeBillFormatError(`the header has no ${required} column`);
  }
  const summaryAt = lines.findIndex((l) => l.startsWith(SUMMARY.rows));
  if (summaryAt < 0 || summaryAt !== lines.length - 2) {
    throw new TradeBillFormatError(
      'the summary (总交易单数, then one line of totals) is missing: the bill is cut off',
    );
  }
  const bill: TradeBill = {
    payments: [],
    refunds: [],
    summary: readSummary(lines[summaryAt]!, lines[summaryAt + 1]!, summaryAt + 2),
    counted: { rows: 0, settlementTotal: 0, refundTotal: 0 },
  };
  for (let i = 1; i < summaryAt; i++) {
    const lineNo = i + 1;
    const cells = cellsOf(lines[i]!, lineNo);
    if (cells.length !== header.length)
      throw new TradeBillFormatError(`line ${lineNo}: ${cells.length} values for ${header.length} columns`);
    const cell = (name: string) => (col(name) < 0 ? undefined : cells[col(name)]);
    const fen = (name: string) => {
      const raw = cell(name);
      if (raw === undefined) return undefined;
      const value = yuanToFen(raw);
      if (value === undefined)
        throw new TradeBillFormatError(`line ${lineNo}: ${name} is not an amount: ${raw}`);
      return value;
    };
    const at = beijingTime(cell(COLUMNS.time)!);
    if (at === undefined) throw new TradeBillFormatError(`line ${lineNo}: ${COLUMNS.time} is not a time`);
    bill.counted.rows++;
    bill.counted.settlementTotal += fen(COLUMNS.settlement) ?? 0;
    const base = {
      outTradeNo: cell(COLUMNS.outTradeNo)!,
      transactionId: cell(COLUMNS.transactionId) ?? '',
      at,
      line: lineNo,
    };
    const state = cell(COLUMNS.tradeState);
    if (state === 'REFUND') {
      const refunded = fen(COLUMNS.refund) ?? 0;
      bill.counted.refundTotal += refunded;
      const status = cell(COLUMNS.refundStatus) ?? '';
      if (!REFUND_STATUSES.includes(status))
        throw new TradeBillFormatError(`line ${lineNo}: unknown ${COLUMNS.refundStatus} ${status}`);
      bill.refunds.push({
        ...base,
        outRefundNo: cell(COLUMNS.outRefundNo) ?? '',
        refundId: cell(COLUMNS.refundId) ?? '',
        amount: fen(COLUMNS.refundAsked) ?? refunded,
        status: status as BillRefundStatus,
      });
    } else if (state === 'SUCCESS') {
      bill.payments.push({ ...base, amount: fen(COLUMNS.total) ?? fen(COLUMNS.settlement)! });
    }
    // Other states (REVOKED: a cancelled micropay) move no money of a mini program's order.
  }
  return bill;
}

function readSummary(head: string, values: string, lineNo: number): TradeBill['summary'] {
  const names = head.split(',');
  const cells = cellsOf(values, lineNo);
  const get = (name: string) => {
    const raw = cells[names.indexOf(name)];
    const fen = raw === undefined ? undefined : yuanToFen(raw);
    if (fen === undefined) throw new TradeBillFormatError(`line ${lineNo}: the summary has no ${name}`);
    return fen;
  };
  const rows = cells[names.indexOf(SUMMARY.rows)] ?? '';
  if (!/^\d+$/.test(rows)) throw new TradeBillFormatError(`line ${lineNo}: ${SUMMARY.rows} is not a count`);
  return {
    rows: Number(rows),
    settlementTotal: get(SUMMARY.settlement),
    // The SUCCESS layout has no refund total: no refund rows either.
    refundTotal: names.includes(SUMMARY.refund) ? get(SUMMARY.refund) : 0,
  };
}
