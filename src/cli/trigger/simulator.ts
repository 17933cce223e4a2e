import type { WechatTarget } from '../../http/routes/admin-tools.js';
import type { ServiceClient } from '../service-client.js';
import { TriggerError } from './report.js';

/** WeChat's own domains: trigger never sends anything to them, and refuses a service that does. */
const WECHAT_DOMAINS = ['qq.com', 'wechatpay.cn', 'tenpay.com', 'weixin.com'];

export function isRealWechatHost(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return WECHAT_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`));
}

export interface SimulatorClient {
  url: string;
  get<T>(path: string): Promise<T>;
  post<T>(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
}

function simulatorClient(url: string): SimulatorClient {
  async function send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new TriggerError(`the simulator at ${url} does not answer (${cause})`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }
  return {
    url,
    async get<T>(path: string) {
      const { status, body } = await send<T>('GET', path);
      if (status !== 200) throw new TriggerError(`GET ${url}${path} answered ${status}`);
      return body;
    },
    post: (path, body, headers) => send('POST', path, body, headers),
  };
}

/** What a simulator answers at GET /sim/clock, and nothing else does. */
async function isSimulator(url: string): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const res = await fetch(`${url}/sim/clock`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json().catch(() => undefined)) as { now_ms?: unknown } | undefined;
    if (res.status === 200 && typeof body?.now_ms === 'number') return { ok: true };
    return { ok: false, why: `GET /sim/clock answered ${res.status}, not the simulator's clock` };
  } catch (err) {
    return { ok: false, why: (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message };
  }
}

export interface Simulators {
  wechat: WechatTarget;
  /** Where wx.login codes come from (the service's WECHAT_API_BASE_URL). */
  login: SimulatorClient;
  /** Where orders are paid and faults set (the service's WECHAT_PAY_BASE_URL). */
  pay: SimulatorClient;
}

/**
 * Asks the service which WeChat it talks to (GET /admin/wechat) and makes sure it is the
 * simulator: a WeChat domain is refused without a single request to it, and any other host must
 * answer GET /sim/clock as the simulator does. `override` (--simulator-url) replaces the address
 * the service uses, for a simulator this machine reaches under another name (a container's).
 */
export async function findSimulators(
  service: ServiceClient,
  override: string | undefined,
): Promise<Simulators> {
  const wechat = await service.admin<WechatTarget>('GET', '/admin/wechat');
  for (const [setting, url] of [
    ['WECHAT_PAY_BASE_URL', wechat.payBaseUrl],
    ['WECHAT_API_BASE_URL', wechat.apiBaseUrl],
  ] as const) {
    if (isRealWechatHost(url)) {
      throw new TriggerError(
        `the service at ${service.url} talks to the real WeChat (${setting}=${url}): trigger works only against the simulator, so it never moves real money. Run \`weapp-pay start\` (the demo), or point ${setting} at \`weapp-pay simulate\``,
      );
    }
  }
  const loginUrl = (override ?? wechat.apiBaseUrl).replace(/\/+$/, '');
  const payUrl = (override ?? wechat.payBaseUrl).replace(/\/+$/, '');
  for (const url of new Set([loginUrl, payUrl])) {
    const probe = await isSimulator(url);
    if (!probe.ok) {
      throw new TriggerError(
        `${url} is not the weapp-pay simulator (${probe.why}): trigger works only against the simulator. ${override ? 'Check --simulator-url' : `The service's WeChat is ${url}; if the simulator is reachable from here under another address, pass --simulator-url`}`,
      );
    }
  }
  return { wechat, login: simulatorClient(loginUrl), pay: simulatorClient(payUrl) };
}
