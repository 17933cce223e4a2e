/**
 * What verifying one v2 payment notification costs (strict XML parse, HMAC-SHA256 check, field
 * formats): `verifyPaymentNotification` over 1,000 distinct signed notifications, bare values and
 * all-CDATA values (the way WeChat writes them). Pass another checkout's root to time its code,
 * so a before and an after can be alternated in separate processes:
 *
 *   node --import tsx bench/v2-verify-cost.ts [ROOT] [ROUNDS]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Fields = Record<string, string>;
interface V2Modules {
  buildPaymentNotification(fields: Fields, key: string, signType: 'HMAC-SHA256'): string;
  verifyPaymentNotification(raw: Buffer, options: { key: string; signType: 'HMAC-SHA256' }): unknown;
  buildXml(fields: Fields, root: string, options: { cdata: 'always' }): string;
  parseXml(raw: string): Fields;
}

const KEY = '192006250b4c09247ec02edce69f6a2d';
const N = 300_000;

async function load(root: string): Promise<V2Modules> {
  const from = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  return { ...(await from('src/wechat/v2/notify.ts')), ...(await from('src/wechat/v2/xml.ts')) };
}

function bodies(v2: V2Modules, cdata: boolean): Buffer[] {
  return Array.from({ length: 1000 }, (_, i) => {
    const signed = v2.buildPaymentNotification(
      {
        return_code: 'SUCCESS',
        return_msg: 'OK',
        appid: 'wx1234567890abcdef',
        mch_id: '1900000109',
        nonce_str: `n${i}`.padEnd(32, 'a'),
        result_code: 'SUCCESS',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        is_subscribe: 'N',
        trade_type: 'JSAPI',
        bank_type: 'CMC',
        total_fee: '1',
        fee_type: 'CNY',
        cash_fee: '1',
        transaction_id: `42000000002024120200${String(i).padStart(8, '0')}`,
        out_trade_no: `BENCH${String(i).padStart(16, '0')}`,
        time_end: '20241202120530',
      },
      KEY,
      'HMAC-SHA256',
    );
    return Buffer.from(cdata ? v2.buildXml(v2.parseXml(signed), 'xml', { cdata: 'always' }) : signed);
  });
}

function time(v2: V2Modules, docs: Buffer[]): number {
  const verify = (i: number) =>
    v2.verifyPaymentNotification(docs[i % docs.length] as Buffer, { key: KEY, signType: 'HMAC-SHA256' });
  for (let i = 0; i < 30_000; i++) verify(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) verify(i);
  return Number(process.hrtime.bigint() - start) / N / 1000;
}

const root = process.argv[2] ?? resolve(import.meta.dirname, '..');
const rounds = Number(process.argv[3] ?? 2);
const v2 = await load(root);
const bare = bodies(v2, false);
const cdata = bodies(v2, true);
for (let round = 0; round < rounds; round++) {
  console.log(
    `${root}: bare ${time(v2, bare).toFixed(2)} µs, CDATA ${time(v2, cdata).toFixed(2)} µs per notification`,
  );
}
