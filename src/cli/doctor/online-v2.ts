import { randomBytes } from 'node:crypto';
import { WechatLoginError, WechatRejectedError, WechatUnknownOutcomeError } from '../../wechat/errors.js';
import { createLoginClient } from '../../wechat/login/code2session.js';
import type { Transport } from '../../wechat/transport.js';
import { interpretV2Response, signedRequestV2, type V2Identity, xmlRequest } from '../../wechat/v2/call.js';
import { type CheckResult, fail, ok, warn } from './check.js';

/**
 * `--online` checks that move no money: a signed v2 orderquery for an order that cannot exist,
 * and code2Session with a code that cannot exist. WeChat judges the credentials before the
 * order or the code, so its refusal names which credential is wrong.
 */

const ID_V2 = 'online.v2-key';
const ID_LOGIN = 'online.appsecret';

/** An out_trade_no no shop ever used: 32 characters, the protocol's limit. */
const absentOrderNo = () => `doctor${randomBytes(13).toString('hex')}`;

export async function checkV2Key(
  transport: Transport,
  payBaseUrl: string,
  identity: V2Identity,
): Promise<CheckResult> {
  const fields = signedRequestV2({ out_trade_no: absentOrderNo() }, identity, randomBytes(8).toString('hex'));
  try {
    const res = await transport.request(xmlRequest(`${payBaseUrl}/pay/orderquery`, fields));
    interpretV2Response(res, identity, 'orderquery');
    return fail(
      ID_V2,
      'orderquery found an order that should not exist',
      'report this: the probe order number collided',
    );
  } catch (err) {
    return judgeV2(err, payBaseUrl);
  }
}

function judgeV2(err: unknown, payBaseUrl: string): CheckResult {
  if (err instanceof WechatRejectedError) {
    const code = err.failure.errCode;
    if (code === 'ORDERNOTEXIST')
      return ok(ID_V2, 'WECHAT_MCH_KEY signs right: orderquery for an absent order answered ORDERNOTEXIST');
    if (code === 'SIGNERROR')
      return fail(
        ID_V2,
        'WeChat answered "签名错误" (signature error) to a signed orderquery: the API v2 key is wrong',
        'set WECHAT_MCH_KEY to the 32-character key from pay.weixin.qq.com → 账户中心 → API安全 → API密钥 (the v2 key, not the APIv3 key); check WECHAT_SIGN_TYPE too',
      );
    if (code === 'APPID_MCHID_NOT_MATCH')
      return fail(
        ID_V2,
        'WeChat answered APPID_MCHID_NOT_MATCH: the appid is not bound to this merchant',
        'set WECHAT_APPID to the Mini Program bound to WECHAT_MCHID (pay.weixin.qq.com → 产品中心 → AppID账号管理)',
      );
    return fail(
      ID_V2,
      `orderquery was refused: ${code} ${err.failure.message}`,
      'check WECHAT_MCHID and WECHAT_APPID',
    );
  }
  if (err instanceof WechatUnknownOutcomeError && err.reason === 'bad_signature')
    return fail(
      ID_V2,
      'the orderquery answer is not signed with WECHAT_MCH_KEY',
      "set WECHAT_MCH_KEY to the merchant's API v2 key; check that WECHAT_PAY_BASE_URL is WeChat's (or the simulator's)",
    );
  return unreachable(ID_V2, 'WECHAT_PAY_BASE_URL', payBaseUrl, err);
}

export async function checkLogin(
  transport: Transport,
  apiBaseUrl: string,
  credentials: { appid: string; secret: string },
): Promise<CheckResult> {
  const login = createLoginClient({ baseUrl: apiBaseUrl, ...credentials, transport });
  try {
    await login.code2Session(`weapp-pay-doctor-${randomBytes(8).toString('hex')}`);
    return fail(
      ID_LOGIN,
      'code2Session accepted a made-up code',
      "check that WECHAT_API_BASE_URL is WeChat's",
    );
  } catch (err) {
    if (!(err instanceof WechatLoginError) || err.errcode === undefined)
      return unreachable(ID_LOGIN, 'WECHAT_API_BASE_URL', apiBaseUrl, err);
    switch (err.errcode) {
      case 40029:
        return ok(
          ID_LOGIN,
          'WECHAT_APPID and WECHAT_SECRET are right: code2Session judged only the dummy code (40029)',
        );
      case 40125:
        return fail(
          ID_LOGIN,
          'code2Session answered 40125 (invalid appsecret): WECHAT_SECRET is wrong',
          'set WECHAT_SECRET to the AppSecret of WECHAT_APPID (mp.weixin.qq.com → 开发管理 → 开发设置; reset it there if lost)',
        );
      case 40013:
        return fail(
          ID_LOGIN,
          'code2Session answered 40013 (invalid appid): WECHAT_APPID is not a Mini Program WeChat knows',
          'set WECHAT_APPID to the Mini Program\'s AppID, "wx" and 16 letters or digits (mp.weixin.qq.com → 开发管理 → 开发设置)',
        );
      default:
        return fail(
          ID_LOGIN,
          `code2Session answered errcode ${err.errcode}`,
          'check WECHAT_APPID and WECHAT_SECRET',
        );
    }
  }
}

export function unreachable(id: string, setting: string, url: string, err: unknown): CheckResult {
  const why = err instanceof Error ? err.message : String(err);
  return fail(
    id,
    `cannot get an answer from ${url}: ${why}`,
    `check ${setting} and the network (WeChat's host, or the simulator's URL in a test setup)`,
  );
}

/**
 * How far our clock is from WeChat's, from the `Date` header of its answers. v3 refuses a request
 * signed more than 300 s away (and we refuse its answers likewise); v2 has no window, but
 * `time_expire` and the paySign timestamp drift with the clock, so a skew is only a warning there.
 */
export function checkClockSkew(
  dateHeader: string | undefined,
  nowMs: number,
  apiVersion: 'v2' | 'v3',
): CheckResult {
  const id = 'online.clock';
  const theirs = dateHeader === undefined ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(theirs))
    return warn(
      id,
      'no answer from WeChat carried a Date header; clock not compared',
      'run the server with NTP (chrony or systemd-timesyncd)',
    );
  const skew = Math.round((nowMs - theirs) / 1000);
  const said = `this server's clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} WeChat's`;
  const fix =
    'synchronise the clock with NTP (timedatectl set-ntp true, or chrony); v3 refuses anything signed more than 5 minutes off';
  if (Math.abs(skew) > 300 && apiVersion === 'v3') return fail(id, said, fix);
  if (Math.abs(skew) > 60) return warn(id, said, fix);
  return ok(id, `clock agrees with WeChat's Date header (${skew} s apart, within 60 s)`);
}
