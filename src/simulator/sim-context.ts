import type { Socket } from 'node:net';
import type { SimBehaviour, SimLogger } from './config.js';
import type { Notifier } from './notifier.js';
import type { SimClock } from './sim-clock.js';
import type { SimState } from './state.js';

/** What every route of the simulator works with; built once by createSimulator. */
export interface SimContext {
  state: SimState;
  clock: SimClock;
  behaviour: SimBehaviour;
  timeScale: number;
  notifier: Notifier;
  log: SimLogger;
  /** Sockets of requests left hanging by the HANG fault, destroyed on close. */
  hungSockets: Set<Socket>;
}
