import { createHash, randomBytes } from 'node:crypto';
import { createBillApi } from '../bill.js';
import type { V3Api, V3Context } from './endpoint.js';
import { json, v3Error } from './outcomes.js';

/**
 * 《申请交易账单》 `GET /v3/bill/tradebill?bill_date=yyyy-MM-dd` answers where to download the
 * bill and its SHA1; the download (`GET /v3/billdownload/file?token=…`) is signed by the
 * merchant like any v3 request, but its answer is the bare file, unsigned: the hash is the
 * check. The bill itself is v2's (same text, same rules on when a day's bill exists).
 */

/** v2 `error_code` → v3 code (《申请交易账单》 error table). */
const BILL_ERRORS: Record<string, [number, string, string]> = {
  '20002': [400, 'NO_STATEMENT_EXIST', '账单文件不存在'],
  '20003': [400, 'STATEMENT_CREATING', '账单生成中，请稍后再试'],
};

export function createBillApis(ctx: V3Context): V3Api[] {
  const billApi = createBillApi(ctx);
  return [
    {
      api: 'downloadbill',
      method: 'GET',
      path: '/v3/bill/tradebill',
      async handle({ merchant, query, now, origin }) {
        const date = query.bill_date ?? '';
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
          return v3Error(400, 'PARAM_ERROR', 'bill_date 格式应为 yyyy-MM-dd', {
            field: 'bill_date',
            location: 'query',
          });
        const fields: Record<string, string> = {
          appid: '',
          mch_id: merchant.mchId,
          bill_date: date.replaceAll('-', ''),
        };
        if (query.bill_type) fields.bill_type = query.bill_type;
        if (query.tar_type) fields.tar_type = query.tar_type;
        const outcome = await billApi.handle({
          fields,
          merchant,
          signType: 'HMAC-SHA256',
          now,
          fault: undefined,
        });
        if (outcome.kind === 'fail') {
          const [status, code, message] = BILL_ERRORS[outcome.errorCode ?? ''] ?? [
            400,
            'PARAM_ERROR',
            outcome.message,
          ];
          return v3Error(status, code, message);
        }
        if (outcome.kind !== 'text') return v3Error(500, 'SYSTEM_ERROR', '系统繁忙，请稍后重试');
        const file = Buffer.from(outcome.body);
        const token = randomBytes(18).toString('base64url');
        ctx.bills.set(token, file);
        return json({
          hash_type: 'SHA1',
          hash_value: createHash('sha1').update(file).digest('hex'),
          download_url: `${origin}/v3/billdownload/file?token=${token}`,
        });
      },
    },
    {
      api: 'downloadbill',
      method: 'GET',
      path: '/v3/billdownload/file',
      handle({ query }) {
        const file = ctx.bills.get(query.token ?? '');
        if (!file) return v3Error(400, 'PARAM_ERROR', '下载链接无效或已过期');
        return { kind: 'file', body: file, contentType: 'application/octet-stream' };
      },
    },
  ];
}
