/**
 * A worker process of `npm run chaos`: runs the seeds its parent hands out, a few at once, and
 * sends back each run's outcome. Its settings come in CHAOS_WORKER (JSON).
 */
import { testDatabases } from '../db/dialects.js';
import type { ChaosOptions } from './chaos-run.js';
import { runSlots } from './slots.js';

interface WorkerSettings {
  database: string;
  options: ChaosOptions;
  slots: number;
}

const settings = JSON.parse(process.env.CHAOS_WORKER ?? '{}') as WorkerSettings;
const database = testDatabases().find((d) => d.name === settings.database);
if (!database || !process.send) throw new Error('the chaos worker is started by test/chaos/run.ts');

const waiting: ((seed: number | undefined) => void)[] = [];
process.on('message', (m: { seed: number | null }) => waiting.shift()?.(m.seed ?? undefined));

await runSlots(
  database,
  settings.options,
  settings.slots,
  () =>
    new Promise<number | undefined>((resolve) => {
      waiting.push(resolve);
      process.send?.({ want: true });
    }),
  (outcome) => process.send?.({ outcome }),
);
process.disconnect();
