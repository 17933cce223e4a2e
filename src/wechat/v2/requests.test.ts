import { describe, expect, it } from 'vitest';
import { WechatError } from '../errors.js';
import { returnFailCode } from './call.js';
import {
  toDownloadBillFields,
  toOrderQueryFields,
  toRefundFields,
  toRefundQueryFields,
  toUnifiedOrderFields,
} from './requests.js';

const invalid = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WechatError);
    expect((err as WechatError).code).toBe('INVALID_ARGUMENT');
    return (err as WechatError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
};

const order = {
  body: '咖啡',
  outTradeNo: 'ORDER_20240101_0001',
  totalFee: 1,
  spbillCreateIp: '127.0.0.1',
  notifyUrl: 'https://example.com/wxpay/notify',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
};

describe('request field maps', () => {
  it('maps unifiedorder input to snake_case, JSAPI by default, optional fields left undefined', () => {
    expect(toUnifiedOrderFields(order)).toEqual({
      body: '咖啡',
      out_trade_no: 'ORDER_20240101_0001',
      total_fee: '1',
      spbill_create_ip: '127.0.0.1',
      notify_url: 'https://example.com/wxpay/notify',
      trade_type: 'JSAPI',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      attach: undefined,
      time_start: undefined,
      time_expire: undefined,
      detail: undefined,
      goods_tag: undefined,
      fee_type: undefined,
    });
  });

  it('accepts a 127-byte body and explains a 129-byte one', () => {
    expect(toUnifiedOrderFields({ ...order, body: `${'测'.repeat(42)}a` }).body).toHaveLength(43);
    expect(invalid(() => toUnifiedOrderFields({ ...order, body: '测'.repeat(43) }))).toContain(
      'truncateUtf8',
    );
  });

  it('lets a NATIVE order go without openid, but not without productId', () => {
    const native = { ...order, openid: undefined, tradeType: 'NATIVE' as const };
    expect(toUnifiedOrderFields({ ...native, productId: 'SKU_1' })).toMatchObject({
      trade_type: 'NATIVE',
      product_id: 'SKU_1',
    });
    expect(() => toUnifiedOrderFields(native)).toThrow(/productId is required/);
  });

  it('queries by exactly one identifier', () => {
    expect(toOrderQueryFields({ outTradeNo: 'ORDER_1234' })).toEqual({ out_trade_no: 'ORDER_1234' });
    expect(toOrderQueryFields({ transactionId: '4200' })).toEqual({ transaction_id: '4200' });
    expect(toRefundQueryFields({ refundId: '503' })).toEqual({ refund_id: '503', offset: undefined });
    expect(toRefundQueryFields({ transactionId: '4200', offset: 0 })).toEqual({
      transaction_id: '4200',
      offset: '0',
    });
  });

  it('refuses refunds WeChat would refuse', () => {
    const refund = { outTradeNo: 'ORDER_1234', outRefundNo: 'R1', totalFee: 100, refundFee: 30 };
    expect(toRefundFields(refund)).toEqual({
      out_trade_no: 'ORDER_1234',
      out_refund_no: 'R1',
      total_fee: '100',
      refund_fee: '30',
      refund_desc: undefined,
      notify_url: undefined,
    });
    invalid(() => toRefundFields({ ...refund, refundFee: 101 }));
    invalid(() => toRefundFields({ ...refund, refundFee: 0 }));
    invalid(() => toRefundFields({ ...refund, outRefundNo: 'R 1' }));
    invalid(() => toRefundFields({ ...refund, refundDesc: '退'.repeat(27) }));
    invalid(() => toRefundQueryFields({ outRefundNo: 'R1', offset: -1 }));
  });

  it('checks the bill date is a real yyyyMMdd', () => {
    expect(toDownloadBillFields({ billDate: '20240229', billType: 'REFUND' })).toEqual({
      bill_date: '20240229',
      bill_type: 'REFUND',
    });
    invalid(() => toDownloadBillFields({ billDate: '20230229' }));
  });
});

describe('return_msg codes', () => {
  it.each([
    ['签名错误', 'SIGNERROR'],
    ['签名错误，请检查后再试', 'SIGNERROR'],
    ['XML格式错误', 'XML_FORMAT_ERROR'],
    ['缺少参数', 'LACK_PARAMS'],
    ['appid和mch_id不匹配', 'APPID_MCHID_NOT_MATCH'],
    ['body参数长度有误', 'PARAM_ERROR'],
    ['参数格式校验错误', 'PARAM_ERROR'],
    ['something else', 'RETURN_FAIL'],
    ['', 'RETURN_FAIL'],
  ])('maps %j to %s', (message, code) => {
    expect(returnFailCode(message)).toBe(code);
  });
});
