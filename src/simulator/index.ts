/**
 * The WeChat simulator: login and Pay API v2 and v3 on WeChat's own paths, with state, signatures,
 * notifications, faults and a controllable clock. See docs/simulator.md.
 */
export type {
  MerchantConfig,
  SimAppConfig,
  SimBehaviour,
  SimLogger,
  SimTlsOptions,
  SimulatorOptions,
  V3KeyMode,
} from './config.js';
export { DEFAULT_BEHAVIOUR, V3_KEY_MODES, WECHAT_RETRY_SCHEDULE_SECONDS } from './config.js';
export type { FaultName, FaultRule, SimApi } from './faults.js';
export { FAULT_NAMES, SIM_APIS } from './faults.js';
export { loadMerchantsFromEnv, loadMerchantsFromFile, validateMerchants } from './merchants.js';
export type { ScheduledTask, SimClock, SimClockOptions } from './sim-clock.js';
export { createSimClock } from './sim-clock.js';
export type { ListenOptions, Simulator } from './simulator.js';
export { createSimulator } from './simulator.js';
export type {
  NotificationAttempt,
  RefundStatus,
  SimOrder,
  SimRefund,
  SimState,
  TradeState,
} from './state.js';
export type { TestCertificates } from './tls.js';
export { generateTestCertificates } from './tls.js';
export type { PlatformKeys, PublishedKeys } from './v3/platform-keys.js';
