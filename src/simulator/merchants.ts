import { readFileSync } from 'node:fs';
import { isV2SignType } from '../wechat/v2/sign.js';
import type { MerchantConfig, SimAppConfig } from './config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A PEM given inline, or the path of a file holding one. */
function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/**
 * The merchant and mini program the service is configured with, from the same variables it
 * reads: WECHAT_APPID, WECHAT_SECRET, WECHAT_MCHID, WECHAT_MCH_KEY, and optionally
 * WECHAT_MCH_CERT (path or PEM: the client certificate refunds must present, and the certificate
 * API v3 requests are verified with) and WECHAT_API_V3_KEY. Returns `[]` when
 * none of the four main variables is set.
 *
 * @throws {Error} listing every missing or invalid variable.
 * @example
 * loadMerchantsFromEnv(process.env) // [{ mchId: '1900000109', key: '…', appids: [{ appid: 'wx…', secret: '…' }] }]
 */
export function loadMerchantsFromEnv(env: Env): MerchantConfig[] {
  const names = ['WECHAT_APPID', 'WECHAT_SECRET', 'WECHAT_MCHID', 'WECHAT_MCH_KEY'] as const;
  if (names.every((n) => !env[n])) return [];
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0)
    throw new Error(`Simulator merchant from the environment: missing ${missing.join(', ')}`);
  const merchant: MerchantConfig = {
    mchId: env.WECHAT_MCHID!,
    key: env.WECHAT_MCH_KEY!,
    appids: [{ appid: env.WECHAT_APPID!, secret: env.WECHAT_SECRET! }],
  };
  if (env.WECHAT_MCH_CERT) merchant.cert = readPem(env.WECHAT_MCH_CERT);
  if (env.WECHAT_API_V3_KEY) merchant.apiV3Key = env.WECHAT_API_V3_KEY;
  return validateMerchants([merchant], 'environment');
}

/**
 * Several merchants from a JSON file: an array (or `{ "merchants": [...] }`) of
 * `{ mchId, key, appids: [{ appid, secret }], signType?, name?, cert?, refundNotifyUrl?, apiV3Key? }`
 * (`mch_id` is accepted for `mchId`; `cert` may be a PEM or a path).
 *
 * @example
 * loadMerchantsFromFile('./sim-merchants.json')
 */
export function loadMerchantsFromFile(path: string): MerchantConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read merchants from ${path}: ${(error as Error).message}`, { cause: error });
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { merchants?: unknown } | null)?.merchants;
  if (!Array.isArray(list))
    throw new Error(`${path} must hold an array of merchants or { "merchants": [...] }`);
  const merchants = list.map((raw: Record<string, unknown>) => {
    const m: MerchantConfig = {
      mchId: String(raw.mchId ?? raw.mch_id ?? ''),
      key: String(raw.key ?? ''),
      appids: Array.isArray(raw.appids)
        ? raw.appids.map((a: Record<string, unknown>) => ({
            appid: String(a.appid ?? ''),
            secret: String(a.secret ?? ''),
          }))
        : [],
    };
    if (raw.signType !== undefined) m.signType = raw.signType as MerchantConfig['signType'];
    if (typeof raw.name === 'string') m.name = raw.name;
    if (typeof raw.cert === 'string') m.cert = readPem(raw.cert);
    if (typeof raw.refundNotifyUrl === 'string') m.refundNotifyUrl = raw.refundNotifyUrl;
    if (raw.apiV3Key !== undefined) m.apiV3Key = String(raw.apiV3Key);
    return m;
  });
  return validateMerchants(merchants, path);
}

/**
 * Checks merchants, listing every problem at once; an appid may belong to one merchant only.
 * Messages name the field, never its secret value.
 */
export function validateMerchants(merchants: MerchantConfig[], source = 'options'): MerchantConfig[] {
  const problems: string[] = [];
  const seenApps = new Map<string, string>();
  const seenMch = new Set<string>();
  merchants.forEach((m, i) => {
    const at = `merchant ${i + 1}${m.mchId ? ` (${m.mchId})` : ''}`;
    if (!/^[0-9]{1,32}$/.test(m.mchId))
      problems.push(`${at}: mchId must be digits (got ${JSON.stringify(m.mchId)})`);
    if (seenMch.has(m.mchId)) problems.push(`${at}: mchId appears twice`);
    seenMch.add(m.mchId);
    if (!/^[\x21-\x7e]{32}$/.test(m.key)) {
      problems.push(`${at}: key must be 32 printable ASCII characters (it is ${m.key.length})`);
    }
    if (m.apiV3Key !== undefined && !/^[\x21-\x7e]{32}$/.test(m.apiV3Key)) {
      problems.push(`${at}: apiV3Key must be 32 printable ASCII characters (it is ${m.apiV3Key.length})`);
    }
    if (m.signType !== undefined && !isV2SignType(m.signType)) {
      problems.push(`${at}: signType must be MD5 or HMAC-SHA256`);
    }
    if (m.appids.length === 0) problems.push(`${at}: needs at least one appid`);
    m.appids.forEach((a: SimAppConfig) => {
      if (!/^[0-9A-Za-z_]{1,32}$/.test(a.appid))
        problems.push(`${at}: invalid appid ${JSON.stringify(a.appid)}`);
      if (a.secret === '') problems.push(`${at}: appid ${a.appid} has an empty secret`);
      const owner = seenApps.get(a.appid);
      if (owner !== undefined) problems.push(`${at}: appid ${a.appid} already belongs to merchant ${owner}`);
      seenApps.set(a.appid, m.mchId);
    });
  });
  if (problems.length > 0)
    throw new Error(`Invalid simulator merchants (${source}):\n- ${problems.join('\n- ')}`);
  return merchants;
}
