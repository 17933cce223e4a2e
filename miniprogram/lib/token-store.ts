/**
 * The session token kept in wx storage, so reopening the mini program does not force a new
 * login. Only our own service token is stored: WeChat's session_key never reaches the phone.
 */
import type { TokenStore } from './api.js';

const KEY = 'weapp-pay:token';

export interface WxStorage {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: string): void;
  removeStorageSync(key: string): void;
}

export function createStorageTokenStore(storage: WxStorage): TokenStore {
  return {
    get() {
      const value = storage.getStorageSync(KEY);
      return typeof value === 'string' && value !== '' ? value : null;
    },
    set(token) {
      if (token === null) storage.removeStorageSync(KEY);
      else storage.setStorageSync(KEY, token);
    },
  };
}
