import { config } from './config.js';
import { createApi } from './lib/api.js';
import type { AppGlobals } from './lib/app-globals.js';
import { createSimulatedWx } from './lib/simulated-wx.js';
import { createStorageTokenStore } from './lib/token-store.js';

// Against the demo simulator, login codes and the cashier come from the simulator; otherwise
// this is the real wx, untouched.
const port = config.simulatorUrl ? createSimulatedWx(wx, config.simulatorUrl) : wx;

// One service client for the whole app; pages reach it through getApp().
App<AppGlobals>({
  globalData: {
    wx: port,
    api: createApi({ wx: port, baseUrl: config.serverUrl, tokens: createStorageTokenStore(wx) }),
    purchases: new Map(),
  },
});
