/**
 * Runs seeds on `slots` in-process stages at once, in one process: a run spends most of its
 * time waiting (on WeChat's simulated timeouts, on the database), so a few at once keep a core
 * busy. Each slot keeps its stage for all its runs; runs that kill bring their own.
 */
import type { TestDatabase } from '../db/dialects.js';
import { type ChaosOptions, type ChaosReport, runChaos } from './chaos-run.js';
import { openStage, type Stage } from './stage.js';

export type RunOutcome = { seed: number; report: ChaosReport } | { seed: number; error: string };

export async function runSlots(
  database: TestDatabase,
  options: ChaosOptions,
  slots: number,
  /** The next seed to run, or undefined when there is none left. */
  nextSeed: () => Promise<number | undefined> | number | undefined,
  onOutcome: (outcome: RunOutcome) => void,
): Promise<void> {
  await Promise.all(
    Array.from({ length: slots }, async () => {
      let stage: Stage | undefined;
      try {
        for (let seed = await nextSeed(); seed !== undefined; seed = await nextSeed()) {
          try {
            stage ??= await openStage(database, { instances: options.instances, processes: false });
            onOutcome({ seed, report: await runChaos(seed, database, options, stage) });
          } catch (err) {
            onOutcome({ seed, error: (err as Error).stack ?? String(err) });
            // A stage a run broke is not trusted with the next one.
            await stage?.close().catch(() => {});
            stage = undefined;
          }
        }
      } finally {
        await stage?.close();
      }
    }),
  );
}
