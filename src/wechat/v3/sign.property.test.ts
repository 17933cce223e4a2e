import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MERCHANT_PRIVATE_KEY,
  MERCHANT_PUBLIC_KEY,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
} from '../../../test/fixtures/v3-keys.js';
import { parseAuthorization, signRequestV3, signResponseV3, verifyWechatpayHeaders } from './sign.js';

/**
 * Differential test: on generated requests and responses, our signer must produce exactly the
 * signature that `node:crypto`'s one-shot `sign()` makes over a message this test builds itself
 * from the rules of "API v3 签名生成" (lines joined by `\n`, each one ended, UTF-8), and our
 * verifier must accept exactly what `verify()` accepts: the genuine message, and none with a
 * single byte changed anywhere (body, nonce, timestamp, signature).
 */
const merchantKey = createPrivateKey(MERCHANT_PRIVATE_KEY);
const merchantPublic = createPublicKey(MERCHANT_PUBLIC_KEY);
const platformKey = createPrivateKey(PLATFORM_PRIVATE_KEY);
const platformPublic = createPublicKey(PLATFORM_PUBLIC_KEY);
const SERIAL = 'PUB_KEY_ID_0119000001092024010100000000000001';
const keys = (serial: string) => (serial === SERIAL ? platformPublic : undefined);

const oracleMessage = (...lines: string[]) => lines.map((line) => `${line}\n`).join('');
const oracleSign = (message: string | Buffer, key = merchantKey) =>
  sign('sha256', typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key).toString(
    'base64',
  );

const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
const segment = fc.stringMatching(/^[0-9A-Za-z_\-*]{1,20}$/);
const path = fc
  .tuple(
    fc.array(segment, { minLength: 1, maxLength: 5 }),
    fc.option(fc.stringMatching(/^[a-z_]{1,8}=[0-9A-Za-z%]{0,12}$/)),
  )
  .map(([parts, query]) => `/v3/${parts.join('/')}${query ? `?${query}` : ''}`);
const body = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.json(),
);
const timestamp = fc.integer({ min: 1_500_000_000, max: 2_500_000_000 });
const nonce = fc.stringMatching(/^[0-9A-Za-z]{1,32}$/);

describe('v3 signatures against node:crypto', () => {
  it('signs requests exactly as the independent oracle does', () => {
    fc.assert(
      fc.property(method, path, body, timestamp, nonce, (m, p, b, ts, n) => {
        const header = signRequestV3({
          method: m,
          pathWithQuery: p,
          body: b,
          mchid: '1900000109',
          serialNo: 'ABC',
          privateKey: merchantKey,
          timestamp: ts,
          nonce: n,
        });
        const parsed = parseAuthorization(header);
        const message = oracleMessage(m, p, String(ts), n, b);
        expect(parsed?.signature).toBe(oracleSign(message));
        expect(parsed).toMatchObject({
          mchid: '1900000109',
          nonceStr: n,
          timestamp: String(ts),
          serialNo: 'ABC',
        });
        expect(
          verify(
            'sha256',
            Buffer.from(message, 'utf8'),
            merchantPublic,
            Buffer.from(parsed!.signature, 'base64'),
          ),
        ).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('signs and verifies responses as the oracle does, and refuses any single changed byte', () => {
    const target = fc.constantFrom('body', 'nonce', 'timestamp', 'signature');
    fc.assert(
      fc.property(
        body,
        timestamp,
        nonce,
        target,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (b, ts, n, where, at, xor) => {
          const signed = signResponseV3({
            body: b,
            privateKey: platformKey,
            serial: SERIAL,
            timestamp: ts,
            nonce: n,
          });
          const signature = signed['Wechatpay-Signature']!;
          expect(signature).toBe(oracleSign(oracleMessage(String(ts), n, b), platformKey));
          const headers: Record<string, string> = {
            'wechatpay-timestamp': String(ts),
            'wechatpay-nonce': n,
            'wechatpay-signature': signature,
            'wechatpay-serial': SERIAL,
          };
          const raw = Buffer.from(b, 'utf8');
          expect(verifyWechatpayHeaders({ headers, body: raw, keys, nowSeconds: ts })).toEqual({
            ok: true,
            serial: SERIAL,
          });

          let changedBody = raw;
          const changed = { ...headers };
          if (where === 'body' && raw.length > 0) {
            changedBody = Buffer.from(raw);
            changedBody[at % raw.length] = changedBody[at % raw.length]! ^ xor;
          } else if (where === 'signature' || (where === 'body' && raw.length === 0)) {
            const bytes = Buffer.from(signature, 'base64');
            bytes[at % bytes.length] = bytes[at % bytes.length]! ^ xor;
            changed['wechatpay-signature'] = bytes.toString('base64');
          } else if (where === 'nonce') {
            const i = at % n.length;
            const code = (n.charCodeAt(i) ^ (xor & 0x1f || 1)) & 0x7f;
            changed['wechatpay-nonce'] = `${n.slice(0, i)}${String.fromCharCode(code)}${n.slice(i + 1)}`;
          } else {
            changed['wechatpay-timestamp'] = String(ts + 1 + (xor % 200));
          }
          const result = verifyWechatpayHeaders({
            headers: changed,
            body: changedBody,
            keys,
            nowSeconds: ts,
          });
          expect(result.ok).toBe(false);
          // The oracle agrees the changed message does not verify.
          const oracleMsg = Buffer.concat([
            Buffer.from(`${changed['wechatpay-timestamp']}\n${changed['wechatpay-nonce']}\n`),
            changedBody,
            Buffer.from('\n'),
          ]);
          const oracleOk = verify(
            'sha256',
            oracleMsg,
            platformPublic,
            Buffer.from(changed['wechatpay-signature']!, 'base64'),
          );
          expect(oracleOk).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });
});
