import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMerchantsFromEnv, loadMerchantsFromFile, validateMerchants } from './merchants.js';

const KEY = 'SimulatorTestKey0123456789abcdef';
const ENV = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 's',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: KEY,
};

describe('merchant configuration', () => {
  it('reads the service variables into one merchant', () => {
    expect(loadMerchantsFromEnv(ENV)).toEqual([
      { mchId: '1900000109', key: KEY, appids: [{ appid: 'wx1234567890abcdef', secret: 's' }] },
    ]);
    expect(loadMerchantsFromEnv({})).toEqual([]);
  });

  it('reads the APIv3 key from WECHAT_API_V3_KEY and merchants.json, refusing one of the wrong length without showing it', () => {
    const apiV3Key = 'SimulatorApiV3Key0123456789abcde';
    expect(loadMerchantsFromEnv({ ...ENV, WECHAT_API_V3_KEY: apiV3Key })[0]?.apiV3Key).toBe(apiV3Key);
    const dir = mkdtempSync(join(tmpdir(), 'sim-merchants-v3-'));
    const file = join(dir, 'merchants.json');
    const merchant = { mchId: '1900000109', key: KEY, appids: [{ appid: 'wx1', secret: 's' }] };
    writeFileSync(file, JSON.stringify([{ ...merchant, apiV3Key }]));
    expect(loadMerchantsFromFile(file)[0]?.apiV3Key).toBe(apiV3Key);
    writeFileSync(file, JSON.stringify([{ ...merchant, apiV3Key: 'too-short-secret-v3' }]));
    expect(() => loadMerchantsFromFile(file)).toThrow(
      'apiV3Key must be 32 printable ASCII characters (it is 19)',
    );
    expect(() => loadMerchantsFromFile(file)).not.toThrow('too-short-secret-v3');
  });

  it('names every missing variable at once', () => {
    expect(() => loadMerchantsFromEnv({ WECHAT_APPID: 'wx1234567890abcdef' })).toThrow(
      'missing WECHAT_SECRET, WECHAT_MCHID, WECHAT_MCH_KEY',
    );
  });

  it('lists every problem, never the key itself', () => {
    const bad = 'short-key-that-must-not-leak';
    let message = '';
    try {
      validateMerchants([
        { mchId: 'abc', key: bad, appids: [] },
        { mchId: '1900000109', key: KEY, appids: [{ appid: 'wx1', secret: 'a' }] },
        { mchId: '1900000110', key: KEY, appids: [{ appid: 'wx1', secret: 'b' }] },
      ]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('mchId must be digits');
    expect(message).toContain(`key must be 32 printable ASCII characters (it is ${bad.length})`);
    expect(message).toContain('needs at least one appid');
    expect(message).toContain('appid wx1 already belongs to merchant 1900000109');
    expect(message).not.toContain(bad);
  });

  it('loads several merchants from a JSON file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sim-merchants-')), 'm.json');
    writeFileSync(
      file,
      JSON.stringify({
        merchants: [
          {
            mch_id: '1900000109',
            key: KEY,
            appids: [{ appid: 'wxa', secret: 'x' }],
            signType: 'HMAC-SHA256',
          },
        ],
      }),
    );
    expect(loadMerchantsFromFile(file)).toEqual([
      { mchId: '1900000109', key: KEY, appids: [{ appid: 'wxa', secret: 'x' }], signType: 'HMAC-SHA256' },
    ]);
  });
});
