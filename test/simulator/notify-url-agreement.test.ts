import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_BEHAVIOUR } from '../../src/simulator/config.js';
import { checkUnifiedOrderFields } from '../../src/simulator/unified-order.js';
import { toUnifiedOrderFields } from '../../src/wechat/v2/requests.js';

/**
 * The three notify-URL checks — the service's configuration (WECHAT_NOTIFY_URL), the client's
 * request builder and the simulator's unifiedorder — accept exactly the same URLs. A URL the
 * configuration accepts but the builder refuses would start the service and fail every order.
 */

const ENV = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'appsecret-0123456789abcdef012345',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcdef',
};
const ORDER = {
  body: '测试商品',
  outTradeNo: 'NOTIFY_URL_01',
  totalFee: 1,
  spbillCreateIp: '127.0.0.1',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
};

const accepts = {
  config: (url: string) => loadConfig({ ...ENV, WECHAT_NOTIFY_URL: url }).ok,
  client: (url: string) => {
    try {
      toUnifiedOrderFields({ ...ORDER, notifyUrl: url });
      return true;
    } catch {
      return false;
    }
  },
  simulator: (url: string) =>
    checkUnifiedOrderFields(
      {
        body: ORDER.body,
        out_trade_no: ORDER.outTradeNo,
        total_fee: '1',
        spbill_create_ip: ORDER.spbillCreateIp,
        trade_type: 'JSAPI',
        openid: ORDER.openid,
        notify_url: url,
      },
      DEFAULT_BEHAVIOUR,
    ) === undefined,
};

const path256 = (prefix: string) => `${prefix}${'n'.repeat(256 - prefix.length)}`;

const TABLE: [string, boolean][] = [
  ['https://shop.example/payment/notify/v2', true],
  ['http://127.0.0.1:3000/payment/notify/v2', true],
  ['https://shop.example:8443/notify', true],
  ['https://shop.example/notify/', true],
  ['https://商店.example/notify', true],
  [path256('https://shop.example/'), true],
  [`${path256('https://shop.example/')}n`, false],
  [`https://shop.example/${'测'.repeat(78)}`, true], // 255 UTF-8 bytes
  [`https://shop.example/${'测'.repeat(79)}`, false], // 258 UTF-8 bytes
  ['https://shop.example/notify?order=1', false],
  ['https://shop.example/notify?', false],
  ['https://shop.example/notify#top', false],
  ['https://shop.example/notify#', false],
  ['https://shop.example/notify?a=1#top', false],
  ['ftp://shop.example/notify', false],
  ['javascript:alert(1)', false],
  ['/payment/notify/v2', false],
  ['shop.example/notify', false],
  ['https://', false],
];

describe('notify URL checks agree', () => {
  it.each(TABLE)('%s → accepted: %s, by all three', (url, expected) => {
    expect({
      config: accepts.config(url),
      client: accepts.client(url),
      simulator: accepts.simulator(url),
    }).toEqual({ config: expected, client: expected, simulator: expected });
  });
});
