import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createNonce,
  formatWechatTime,
  isValidFen,
  isValidOutRefundNo,
  isValidOutTradeNo,
  MAX_FEN,
  parseFen,
  parseWechatTime,
  truncateUtf8,
  utf8ByteLength,
} from './fields.js';

describe('Beijing time fields', () => {
  it('formats an instant as yyyyMMddHHmmss at UTC+8', () => {
    expect(formatWechatTime(Date.UTC(2024, 0, 1, 4, 5, 30))).toBe('20240101120530');
    // 16:00 UTC on New Year's Eve is already the next year in Beijing.
    expect(formatWechatTime(Date.UTC(2023, 11, 31, 16, 0, 0))).toBe('20240101000000');
  });

  it('parses back to the same instant', () => {
    expect(parseWechatTime('20240101120530')).toBe(Date.UTC(2024, 0, 1, 4, 5, 30));
    expect(parseWechatTime('20240229235959')).toBe(Date.UTC(2024, 1, 29, 15, 59, 59));
  });

  it.each([
    ['', 'empty'],
    ['2024010112053', '13 digits'],
    ['202401011205300', '15 digits'],
    ['20241301120530', 'month 13'],
    ['20230229120000', '29 February in a common year'],
    ['20240230120000', '30 February'],
    ['20240101240000', 'hour 24'],
    ['20240101126000', 'minute 60'],
    ['2024-01-01 12:05', 'separators'],
    [' 20240101120530', 'leading space'],
    ['２０２４0101120530', 'full-width digits'],
  ])('refuses %j (%s)', (text) => {
    expect(parseWechatTime(text)).toBeUndefined();
  });

  it('accepts exactly the strings that name a real instant, like Date.UTC checked by formatting back', () => {
    // The reference is the obvious, slower definition: read six numbers, let Date.UTC build the
    // instant, and keep it only if it formats back to the same text (so 30 February, hour 24 and
    // years Date.UTC reads as 19xx are refused).
    const reference = (text: string): number | undefined => {
      const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
      if (!m) return undefined;
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      const ms = Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3_600_000;
      return formatWechatTime(ms) === text ? ms : undefined;
    };
    const digit = fc.constantFrom(...'0123456789');
    const part = (max: number, width: number) =>
      fc.oneof(
        fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, '0')),
        fc.string({ unit: digit, minLength: width, maxLength: width }),
      );
    const nearlyValid = fc
      .tuple(part(9999, 4), part(13, 2), part(32, 2), part(25, 2), part(61, 2), part(61, 2))
      .map((parts) => parts.join(''));
    const anything = fc.string({ unit: fc.constantFrom(...'0123456789 -:x٣２'), maxLength: 16 });
    fc.assert(
      fc.property(fc.oneof(nearlyValid, anything), (text) => {
        expect(parseWechatTime(text)).toBe(reference(text));
      }),
      { numRuns: 20_000 },
    );
    for (const leap of [
      '20000229000000',
      '19000229000000',
      '21000229000000',
      '00990101000000',
      '01000101000000',
    ]) {
      expect(parseWechatTime(leap)).toBe(reference(leap));
    }
  });

  it('round-trips every second-resolution instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_271_999 - 8 * 3600 }), (seconds) => {
        const ms = seconds * 1000;
        expect(parseWechatTime(formatWechatTime(ms))).toBe(ms);
      }),
    );
  });
});

describe('UTF-8 byte limits', () => {
  it('counts bytes, not characters', () => {
    expect(utf8ByteLength('abc')).toBe(3);
    expect(utf8ByteLength('测试商品-咖啡')).toBe(19);
    expect(utf8ByteLength('😀')).toBe(4);
  });

  it('cuts 43 Chinese characters (129 bytes) to 42 characters, 126 bytes', () => {
    const body = '测'.repeat(43);
    expect(utf8ByteLength(body)).toBe(129);
    const cut = truncateUtf8(body, 127);
    expect(cut).toBe('测'.repeat(42));
    expect(utf8ByteLength(cut)).toBe(126);
  });

  it('keeps or drops an emoji whole', () => {
    expect(truncateUtf8('ab😀', 5)).toBe('ab');
    expect(truncateUtf8('ab😀', 6)).toBe('ab😀');
  });

  it('returns text that already fits unchanged', () => {
    expect(truncateUtf8('咖啡', 6)).toBe('咖啡');
  });

  it('never exceeds the limit and never breaks a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.nat(200), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(utf8ByteLength(cut)).toBeLessThanOrEqual(max);
        expect(text.startsWith(cut)).toBe(true);
        // Nothing was cut that would still have fitted.
        if (cut !== text) {
          const next = String.fromCodePoint(text.codePointAt(cut.length) ?? 0);
          expect(utf8ByteLength(cut) + utf8ByteLength(next)).toBeGreaterThan(max);
        }
        expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
      }),
    );
  });
});

describe('merchant numbers', () => {
  it.each(['ORDER_20240101_0001', 'abc123', 'a|b*c-d_e', 'x'.repeat(32)])('accepts out_trade_no %j', (v) => {
    expect(isValidOutTradeNo(v)).toBe(true);
  });

  it.each(['abc12', 'x'.repeat(33), 'A1@B2C3', 'ORDER 0001', "ORDER'0001", 'ORDER<001>', '订单000001', ''])(
    'refuses out_trade_no %j',
    (v) => {
      expect(isValidOutTradeNo(v)).toBe(false);
    },
  );

  it('allows @ and 1–64 characters in out_refund_no', () => {
    expect(isValidOutRefundNo('R')).toBe(true);
    expect(isValidOutRefundNo('R@1|2*3-4_5')).toBe(true);
    expect(isValidOutRefundNo('R'.repeat(64))).toBe(true);
    expect(isValidOutRefundNo('R'.repeat(65))).toBe(false);
    expect(isValidOutRefundNo('')).toBe(false);
    expect(isValidOutRefundNo('R 1')).toBe(false);
  });
});

describe('amounts in fen', () => {
  it('accepts plain positive integers up to 2^31−1', () => {
    expect(parseFen('1')).toBe(1);
    expect(parseFen('100')).toBe(100);
    expect(parseFen('2147483647')).toBe(MAX_FEN);
  });

  it.each([
    '100.0',
    '1e2',
    '0x64',
    ' 100',
    '100 ',
    '１００',
    '-1',
    '+1',
    '0',
    '00',
    '0100',
    '2147483648',
    '9999999999',
    '12345678901234567890',
    '',
    '1_000',
    'NaN',
    'Infinity',
  ])('refuses %j', (text) => {
    expect(parseFen(text)).toBeUndefined();
  });

  it('agrees with the decimal value on every integer it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_FEN }), (n) => {
        expect(parseFen(String(n))).toBe(n);
        expect(isValidFen(n)).toBe(true);
      }),
    );
  });

  it('knows which numbers can be sent', () => {
    for (const bad of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_FEN + 1]) {
      expect(isValidFen(bad)).toBe(false);
    }
  });
});

describe('nonces', () => {
  it('is 32 characters of [A-Za-z0-9] by default', () => {
    expect(createNonce()).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(createNonce(16)).toMatch(/^[A-Za-z0-9]{16}$/);
  });

  it('does not repeat and uses the whole alphabet', () => {
    const nonces = Array.from({ length: 2000 }, () => createNonce());
    expect(new Set(nonces).size).toBe(2000);
    const seen = new Set(nonces.join(''));
    expect(seen.size).toBe(62);
  });

  it('refuses a length below 1', () => {
    expect(() => createNonce(0)).toThrow(RangeError);
  });
});
