import { WechatRejectedError } from '../wechat/errors.js';
import type { V2Client } from '../wechat/v2/client.js';
import type { V3Client } from '../wechat/v3/client.js';

/**
 * Where a day's trade bill comes from, whichever API version speaks it. `null` means WeChat has
 * no bill for that day because nothing was paid or refunded (v2 `No Bill Exist`, v3
 * `NO_STATEMENT_EXIST`); every other failure (the bill not generated yet, a bad signature, a
 * hash that does not match) is thrown.
 */
export interface BillSource {
  readonly version: 'v2' | 'v3';
  /** The ALL bill of `date` (YYYY-MM-DD, Beijing), downloaded GZIP-compressed and unpacked. */
  tradeBill(date: string): Promise<string | null>;
}

const noBill = (err: unknown, code: string) =>
  err instanceof WechatRejectedError && err.failure.errCode === code;

/** 《下载交易账单》 `POST /pay/downloadbill`. */
export function createV2BillSource(client: Pick<V2Client, 'downloadBill'>): BillSource {
  return {
    version: 'v2',
    async tradeBill(date) {
      try {
        return await client.downloadBill({
          billDate: date.replaceAll('-', ''),
          billType: 'ALL',
          tarType: 'GZIP',
        });
      } catch (err) {
        if (noBill(err, 'NO_BILL_EXIST')) return null;
        throw err;
      }
    },
  };
}

/** 《申请交易账单》 `GET /v3/bill/tradebill`, then the file at its download_url, checked by SHA1. */
export function createV3BillSource(client: Pick<V3Client, 'tradeBill'>): BillSource {
  return {
    version: 'v3',
    async tradeBill(date) {
      try {
        return await client.tradeBill({ billDate: date, billType: 'ALL', tarType: 'GZIP' });
      } catch (err) {
        if (noBill(err, 'NO_STATEMENT_EXIST')) return null;
        throw err;
      }
    },
  };
}
