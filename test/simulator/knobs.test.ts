import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR } from '../../src/simulator/config.js';
import { WechatRetryableError } from '../../src/wechat/errors.js';
import { orderInput, type SimHarness, startSim } from './harness.js';

/** The behaviour knobs while the simulator runs: GET, POST and DELETE /sim/knobs. */
describe('/sim/knobs', () => {
  let h: SimHarness;
  let openid: string;
  beforeAll(async () => {
    h = await startSim();
    openid = (await h.login()).openid;
  });
  afterAll(async () => {
    await h.close();
  });

  const knobs = async () => (await h.json('GET', '/sim/knobs')).body.knobs;

  it('lists every knob with its value', async () => {
    expect(await knobs()).toEqual({ ...DEFAULT_BEHAVIOUR, refundRequiresClientCert: false });
  });

  it('a knob set at run time changes the next call: closeorder under 5 minutes answers SYSTEMERROR, then not after DELETE', async () => {
    const set = await h.json('POST', '/sim/knobs', {
      closeOrderRule: 'systemerror',
      closeOrderMinAgeSeconds: '300',
    });
    expect(set.status).toBe(200);
    expect(set.body.knobs).toMatchObject({ closeOrderRule: 'systemerror', closeOrderMinAgeSeconds: 300 });
    const c = h.client();
    await c.unifiedOrder(orderInput('KNOB_CLOSE_0001', openid, 'http://127.0.0.1:9/notify'));
    const err = await c.closeOrder({ outTradeNo: 'KNOB_CLOSE_0001' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WechatRetryableError);
    expect((err as WechatRetryableError).failure.errCode).toBe('SYSTEMERROR');

    const reset = await h.json('DELETE', '/sim/knobs');
    expect(reset.body.knobs.closeOrderRule).toBe('off');
    await expect(c.closeOrder({ outTradeNo: 'KNOB_CLOSE_0001' })).resolves.toBeUndefined();
  });

  it('refuses a request with any bad knob, listing each problem, and changes none', async () => {
    const before = await knobs();
    const cases: [unknown, string[]][] = [
      [
        { refundDelay: 5, refundDelaySeconds: -1, codeSingleUse: 'yes', expiredOrderState: 'GONE' },
        [
          'refundDelay is not a knob (did you mean refundDelaySeconds?)',
          'codeSingleUse takes true or false (got "yes")',
          'expiredOrderState must be NOTPAY or CLOSED (got "GONE")',
        ],
      ],
      [{ refundDelaySeconds: -1, billBom: true }, ['refundDelaySeconds must be a number ≥ 0 (got -1)']],
      [
        { notifyRetrySchedule: 'soon' },
        ['notifyRetrySchedule takes seconds separated by commas (got "soon")'],
      ],
      [[1, 2], ['body must be a JSON object of knobs']],
    ];
    for (const [body, problems] of cases) {
      const res = await h.json('POST', '/sim/knobs', body);
      expect(res.status).toBe(400);
      for (const p of problems) expect(res.body.error).toContain(p);
    }
    expect(await knobs()).toEqual(before);
  });
});
