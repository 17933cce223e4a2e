import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR } from '../../src/simulator/config.js';
import { checkUnifiedOrderFields } from '../../src/simulator/unified-order.js';
import { formatWechatTime } from '../../src/wechat/v2/fields.js';
import { toUnifiedOrderFields, type UnifiedOrderInput } from '../../src/wechat/v2/requests.js';

/**
 * Differential test: the client's request builder must refuse exactly the unifiedorder inputs the
 * simulator's field checks refuse. The two sides keep their own limits on purpose — one shared
 * table would let a wrong number hide on both — and this test is what keeps them equal.
 *
 * The generator mixes valid values with the ones a shop gets wrong: lengths in UTF-8 bytes on
 * both sides of each limit (ASCII, 2-, 3- and 4-byte characters), foreign characters in
 * out_trade_no, amounts that are not whole fen, malformed or impossible times, notify URLs with a
 * query or a fragment, unknown trade types, a missing openid or product_id, empty optional fields.
 */

const CHARS = ['a', 'é', '测', '😀'] as const;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** A string of exactly `n` UTF-8 bytes made mostly of `ch`. */
const ofBytes = (n: number, ch: string) => ch.repeat(Math.floor(n / bytes(ch))) + 'a'.repeat(n % bytes(ch));

/** Usually `valid`, sometimes anything from `edge`: most inputs then differ by one field. */
const mostly = <T>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: edge, weight: 1 });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

/** Short text, or text on either side of the `max`-byte limit, or any Unicode (empty included). */
const text = (max: number) =>
  mostly(
    fc.string({
      unit: fc.constantFrom(...CHARS),
      minLength: 1,
      maxLength: Math.min(20, Math.floor(max / 4)),
    }),
    fc.oneof(
      fc
        .tuple(fc.integer({ min: max - 4, max: max + 4 }), fc.constantFrom(...CHARS))
        .map(([n, ch]) => ofBytes(n, ch)),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
    ),
  );

const outTradeNo = mostly(
  fc.stringMatching(/^[0-9A-Za-z_\-|*]{6,32}$/),
  fc.string({ unit: fc.constantFrom(...'aZ09_-|*@ .测#'), minLength: 0, maxLength: 34 }),
);

const totalFee = mostly(
  fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  fc.oneof(
    fc.integer({ min: -2, max: 2 ** 31 + 2 }),
    fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 1.5, 99.99, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21),
  ),
);

const ip = mostly(
  fc.oneof(fc.ipV4(), fc.ipV6()),
  fc.constantFrom('127.0.0.1', '::1', '', 'localhost', '256.1.1.1', '1.2.3', ' 127.0.0.1', 'a'.repeat(65)),
);

const notifyUrl = mostly(
  fc.constantFrom('https://shop.example/pay/notify', 'http://127.0.0.1:9/notify'),
  fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom(
      'https://shop.example/notify?order=1',
      'https://shop.example/notify?',
      'https://shop.example/notify#top',
      'https://shop.example/notify#',
      'ftp://shop.example/notify',
      'notify',
      '',
      `https://shop.example/${'n'.repeat(235)}`,
      `https://shop.example/${'n'.repeat(236)}`,
      `https://shop.example/${'测'.repeat(78)}`,
    ),
  ),
);

const time = mostly(
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) }).map(formatWechatTime),
  fc.oneof(
    fc.constantFrom(
      '',
      '20240230120000',
      '20240101240000',
      '2024010112000',
      '20240101120000 ',
      '2024-01-01 12:00',
    ),
    fc.stringMatching(/^\d{14}$/),
  ),
);

const tradeType = mostly(
  fc.constantFrom('JSAPI' as const, undefined),
  fc.constantFrom('NATIVE', 'APP', 'MWEB', 'MICROPAY', 'jsapi', '') as fc.Arbitrary<
    UnifiedOrderInput['tradeType']
  >,
);

const input: fc.Arbitrary<UnifiedOrderInput> = fc.record(
  {
    body: text(127),
    outTradeNo,
    totalFee,
    spbillCreateIp: ip,
    notifyUrl,
    openid: fc.option(mostly(fc.constant('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'), text(128)), {
      nil: undefined,
      freq: 10,
    }),
    tradeType,
    productId: optional(text(32)),
    attach: optional(text(127)),
    timeStart: optional(time),
    timeExpire: optional(time),
    detail: optional(mostly(fc.constant('{"goods_detail":[]}'), text(6000))),
    goodsTag: optional(text(32)),
    feeType: optional(fc.constantFrom('CNY', 'CNY', 'CNY', 'USD', 'cny', '')),
  },
  { requiredKeys: ['body', 'outTradeNo', 'totalFee', 'spbillCreateIp', 'notifyUrl'] },
) as fc.Arbitrary<UnifiedOrderInput>;

/** What goes on the wire for `i`, written out here independently of the builder. */
function wire(i: UnifiedOrderInput): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    body: i.body,
    out_trade_no: i.outTradeNo,
    total_fee: String(i.totalFee),
    spbill_create_ip: i.spbillCreateIp,
    notify_url: i.notifyUrl,
    trade_type: i.tradeType ?? 'JSAPI',
    openid: i.openid,
    product_id: i.productId,
    attach: i.attach,
    time_start: i.timeStart,
    time_expire: i.timeExpire,
    detail: i.detail,
    goods_tag: i.goodsTag,
    fee_type: i.feeType,
  };
  // An empty field is no field: it is not signed, and WeChat reads it as absent.
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
}

function built(i: UnifiedOrderInput): Record<string, string> | 'refused' {
  try {
    const fields = toUnifiedOrderFields(i);
    return Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''),
    ) as Record<string, string>;
  } catch {
    return 'refused';
  }
}

describe('unifiedorder limits: client builder and simulator agree', () => {
  it('refuse exactly the same inputs', () => {
    fc.assert(
      fc.property(input, (i) => {
        const client = built(i);
        const sim = checkUnifiedOrderFields(wire(i), DEFAULT_BEHAVIOUR);
        expect({ clientRefuses: client === 'refused', sim }).toEqual({
          clientRefuses: sim !== undefined,
          sim,
        });
        if (client !== 'refused') expect(client).toEqual(wire(i));
      }),
      { numRuns: 3000 },
    );
  });

  it('generates both outcomes in useful numbers', () => {
    const sample = fc.sample(input, { numRuns: 2000, seed: 42 });
    const refused = sample.filter((i) => checkUnifiedOrderFields(wire(i), DEFAULT_BEHAVIOUR)).length;
    expect(refused).toBeGreaterThan(200);
    expect(sample.length - refused).toBeGreaterThan(100);
  });
});
