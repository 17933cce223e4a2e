/**
 * A client written by someone else, to WeChat's documented protocol, must work against the
 * simulator unchanged. This test is that client: it shares no code with weapp-pay's protocol
 * layer. It signs the way WeChat's 《签名算法》 page describes, writes XML the way many
 * SDKs do (declaration, CDATA everywhere, pretty-printed), and reads replies with a general XML
 * parser.
 */
import { createHash, createHmac } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPID, KEY, MCH_ID, SECRET, startSim } from './harness.js';

// WeChat's v2 signature (《签名算法》: sorted key=value pairs, &key=, MD5 or HMAC-SHA256), as an outsider would paste it.
function v2Sign(
  params: Record<string, unknown>,
  apiKey: string,
  type: 'MD5' | 'HMAC-SHA256' = 'MD5',
): string {
  const stringA = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== null && String(params[k]) !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  const temp = `${stringA}&key=${apiKey}`;
  const hex =
    type === 'HMAC-SHA256'
      ? createHmac('sha256', apiKey).update(temp, 'utf8').digest('hex')
      : createHash('md5').update(temp, 'utf8').digest('hex');
  return hex.toUpperCase();
}

const parser = new XMLParser({ parseTagValue: false, processEntities: false });

/** As XStream-style Java SDKs write it: a declaration, one element per line, every value in CDATA. */
function toXml(params: Record<string, string>): string {
  const lines = Object.entries(params).map(([k, v]) => `  <${k}><![CDATA[${v}]]></${k}>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n${lines.join('\n')}\n</xml>\n`;
}

describe('a client written by someone else, against the simulator', () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  async function call(path: string, params: Record<string, string>, type: 'MD5' | 'HMAC-SHA256' = 'MD5') {
    const signed = { ...params, ...(type === 'HMAC-SHA256' ? { sign_type: type } : {}) };
    const body = toXml({ ...signed, sign: v2Sign(signed, KEY, type) });
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
    const reply = parser.parse(await res.text()).xml as Record<string, string>;
    return reply;
  }

  it.each(['MD5', 'HMAC-SHA256'] as const)(
    'logs in, orders, pays and queries with %s signatures',
    async (type) => {
      const { code } = (await (
        await fetch(`${sim.url}/sim/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json()) as { code: string };
      const session = (await (
        await fetch(
          `${sim.url}/sns/jscode2session?appid=${APPID}&secret=${SECRET}&js_code=${code}&grant_type=authorization_code`,
        )
      ).json()) as { openid: string; session_key: string };
      expect(session.openid).toBeTruthy();

      const outTradeNo = `FOREIGN${type === 'MD5' ? 'M' : 'H'}0001`;
      const ordered = await call(
        '/pay/unifiedorder',
        {
          appid: APPID,
          mch_id: MCH_ID,
          nonce_str: 'abcdefghijklmnop',
          body: '外部客户端-测试',
          out_trade_no: outTradeNo,
          total_fee: '1',
          spbill_create_ip: '127.0.0.1',
          notify_url: 'http://127.0.0.1:9/notify',
          trade_type: 'JSAPI',
          openid: session.openid,
        },
        type,
      );
      expect(ordered).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', trade_type: 'JSAPI' });
      // The outsider verifies the reply with its own function too.
      expect(ordered.sign).toBe(v2Sign(ordered, KEY, type));

      await fetch(`${sim.url}/sim/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prepay_id: ordered.prepay_id, result: 'SUCCESS' }),
      });
      const queried = await call(
        '/pay/orderquery',
        { appid: APPID, mch_id: MCH_ID, nonce_str: 'qrstuvwxyzabcdef', out_trade_no: outTradeNo },
        type,
      );
      expect(queried).toMatchObject({ return_code: 'SUCCESS', trade_state: 'SUCCESS', total_fee: '1' });
      expect(queried.sign).toBe(v2Sign(queried, KEY, type));
    },
  );

  it('is told 签名错误 when it signs with the wrong key', async () => {
    const params = { appid: APPID, mch_id: MCH_ID, nonce_str: 'n', out_trade_no: 'FOREIGNX0001' };
    const body = toXml({ ...params, sign: v2Sign(params, 'WrongKey0123456789abcdefghijklmn') });
    const res = await fetch(`${sim.url}/pay/orderquery`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
    expect(parser.parse(await res.text()).xml).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
  });
});
