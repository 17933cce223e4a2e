import type { Clock } from '../../clock.js';
import { type Config, DEFAULTS, type Env } from '../../config.js';
import { createTransport, type Transport } from '../../wechat/transport.js';
import { readServiceSetup } from '../serve.js';
import { checkMerchantCertificate, type MerchantCertificate } from './certificate.js';
import { type CheckResult, ok, skip } from './check.js';
import { checkDatabase } from './database.js';
import { checkClockSkew, checkLogin, checkV2Key } from './online-v2.js';
import { checkV3Signature, type V3Setup } from './online-v3.js';
import { checkMerchantKey, checkNotifyUrl, pemSetting, settingProblems } from './settings.js';
import { checkPayPublicKey } from './v3-offline.js';

export interface DoctorInput {
  env: Env;
  cwd: string;
  online: boolean;
  clock: Clock;
}

/**
 * Every check of `weapp-pay doctor`, in the order a reader fixes things: settings, certificate,
 * notify URL, database, then (with --online) WeChat itself. A check that needs what an earlier
 * one found broken is skipped, not failed twice.
 */
export async function runDoctorChecks(input: DoctorInput): Promise<CheckResult[]> {
  const { env, cwd } = input;
  const setup = readServiceSetup(env, cwd);
  const results: CheckResult[] = [];
  if (!setup.ok) results.push(...settingProblems(setup.problems));
  else {
    results.push(ok('settings', 'every setting is well-formed (the same rules as `weapp-pay serve`)'));
    results.push(...offlineWechatChecks(setup.config, env, cwd, input.clock.now()));
  }
  const databaseBroken = results.some((r) => r.id === 'settings.DATABASE_URL');
  results.push(
    ...(databaseBroken
      ? [skip('database', 'database not checked until DATABASE_URL is fixed')]
      : await checkDatabase(
          setup.ok ? setup.config.databaseUrl : env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl,
          cwd,
        )),
  );
  if (!input.online)
    results.push(skip('online', 'WeChat not contacted: add --online to check the credentials against it'));
  else if (!setup.ok) results.push(skip('online', 'WeChat not contacted until the settings above are fixed'));
  else results.push(...(await onlineChecks(setup.config, input.clock)));
  return results;
}

/**
 * The API v3 settings once the service reads them (`config.wechat.v3`, present exactly in v3
 * mode); undefined for a v2 configuration.
 */
function v3Of(config: Config): V3Setup | undefined {
  return config.wechat.v3;
}

function offlineWechatChecks(config: Config, env: Env, cwd: string, nowMs: number): CheckResult[] {
  const results: CheckResult[] = [];
  const v3 = v3Of(config);
  if (config.wechat.mchKey) results.push(checkMerchantKey(config));
  const certificate = merchantCertificate(v3, env, cwd);
  if (certificate) results.push(...checkMerchantCertificate(certificate, nowMs));
  else
    results.push(
      skip('certificate', 'no merchant API certificate configured (WECHAT_MCH_CERT): refunds need one'),
    );
  if (v3) results.push(checkPayPublicKey(v3));
  results.push(checkNotifyUrl(config.wechat.notifyUrl, config.wechat.apiVersion));
  return results;
}

function merchantCertificate(
  v3: V3Setup | undefined,
  env: Env,
  cwd: string,
): MerchantCertificate | undefined {
  const serialSetting = env.WECHAT_MCH_CERT_SERIAL?.trim() || undefined;
  if (v3) return { certPem: v3.merchantCertificate, keyPem: v3.merchantPrivateKey, serialSetting };
  const certPem = pemSetting(env, 'WECHAT_MCH_CERT', cwd);
  const keyPem = pemSetting(env, 'WECHAT_MCH_CERT_KEY', cwd);
  return certPem && keyPem ? { certPem, keyPem, serialSetting } : undefined;
}

async function onlineChecks(config: Config, clock: Clock): Promise<CheckResult[]> {
  const { wechat } = config;
  const v3 = v3Of(config);
  const dates: { header: string; receivedMs: number }[] = [];
  const inner = createTransport({ timeoutMs: wechat.timeoutMs });
  // Every answer's Date header is kept: the clock is compared with WeChat's, not with a guess.
  const transport: Transport = {
    async request(req) {
      const res = await inner.request(req);
      if (res.headers.date) dates.push({ header: res.headers.date, receivedMs: clock.now() });
      return res;
    },
    close: () => inner.close(),
  };
  try {
    const identity = {
      appid: wechat.appid,
      mchId: wechat.mchId,
      key: wechat.mchKey,
      signType: wechat.signType,
    };
    const pay = v3
      ? await checkV3Signature(transport, wechat.payBaseUrl, wechat.mchId, v3, clock.now())
      : await checkV2Key(transport, wechat.payBaseUrl, identity);
    const login = await checkLogin(transport, wechat.apiBaseUrl, wechat);
    const first = dates[0];
    return [pay, login, checkClockSkew(first?.header, first?.receivedMs ?? clock.now(), v3 ? 'v3' : 'v2')];
  } finally {
    await transport.close();
  }
}
