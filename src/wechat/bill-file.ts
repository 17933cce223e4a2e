import { gunzipSync } from 'node:zlib';
import { WechatUnknownOutcomeError } from './errors.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * A downloaded bill's bytes, unpacked when WeChat sent them compressed (`tar_type=GZIP`, v2 and
 * v3 alike). Recognised by the GZIP magic bytes rather than the Content-Type, which WeChat does
 * not document. The unpacked size is capped like the download: a bill that inflates past
 * `maxBytes` is refused rather than exhausting memory.
 *
 * @example
 * unpackBill(gzipSync('交易时间,…'), 1 << 20).toString('utf8') // '交易时间,…'
 * unpackBill(Buffer.from('交易时间,…'), 1 << 20) // the same bytes, untouched
 */
export function unpackBill(body: Buffer, maxBytes: number, what = 'downloadbill'): Buffer {
  if (body[0] !== GZIP_MAGIC[0] || body[1] !== GZIP_MAGIC[1]) return body;
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new WechatUnknownOutcomeError(
      'malformed',
      `${what}: the GZIP bill does not unpack (${(err as Error).message})`,
    );
  }
}
