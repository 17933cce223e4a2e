/**
 * The one place that says where the weapp-pay service is.
 *
 * - `serverUrl`: the service. For WeChat DevTools against a local `npm start`, the default works
 *   once "不校验合法域名" (skip domain checks) is ticked; for a real device, put your deployed
 *   HTTPS address here and add it to the mini program's "request 合法域名" list.
 * - `simulatorUrl`: set it only to try the app against `npm start`'s simulator, which then plays
 *   WeChat's login and cashier (lib/simulated-wx.ts). Leave it `null` for a real deployment.
 */
export const config: { serverUrl: string; simulatorUrl: string | null } = {
  serverUrl: 'http://127.0.0.1:3000',
  simulatorUrl: 'http://127.0.0.1:3100',
};
