import { describe, expect, it } from 'vitest';
import { checkFields, OUT_TRADE_NO } from './validation.js';

describe('checkFields', () => {
  const specs = {
    body: { required: true, maxBytes: 127 },
    out_trade_no: { required: true, ...OUT_TRADE_NO },
    total_fee: { fen: true },
    notify_url: { notifyUrl: true },
    time_expire: { wechatTime: true },
  };
  const ok = {
    body: '咖啡',
    out_trade_no: 'ORDER_1',
    total_fee: '1',
    notify_url: 'http://127.0.0.1/n',
    time_expire: '20240101120530',
  };

  it('passes a valid set', () => {
    expect(checkFields(ok, specs)).toBeUndefined();
  });

  it('reports the first missing required field, treating an empty value as missing', () => {
    expect(checkFields({ ...ok, body: '' }, specs)).toEqual({ kind: 'missing', field: 'body' });
  });

  it('counts body in UTF-8 bytes: 42 Chinese characters pass, 43 do not', () => {
    expect(checkFields({ ...ok, body: '测'.repeat(42) }, specs)).toBeUndefined();
    expect(checkFields({ ...ok, body: '测'.repeat(43) }, specs)).toEqual({
      kind: 'invalid',
      field: 'body',
      message: 'body参数长度有误',
    });
  });

  it.each(['1e2', '0x64', ' 100', '１００', '-1', '01', '2147483648'])('refuses total_fee %j', (fee) => {
    expect(checkFields({ ...ok, total_fee: fee }, specs)?.field).toBe('total_fee');
  });

  it('refuses https-less notify urls only when asked to', () => {
    expect(checkFields(ok, specs, { requireHttps: true })?.field).toBe('notify_url');
    expect(checkFields({ ...ok, notify_url: 'https://shop.example/n#x' }, specs)?.field).toBe('notify_url');
  });
});
