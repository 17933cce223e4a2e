import type { ReconcileProgress } from '../reconcile/reconcile-day.js';
import type { Progress } from './progress.js';

const LABEL: Record<ReconcileProgress['phase'], string> = {
  download: "downloading WeChat's bill",
  compare: 'comparing it with our orders and refunds',
  settle: 'settling the differences by query',
  save: 'saving the report and its anomalies',
};

/**
 * Feeds a reconciliation's phases (as reconcileDay reports them) to the shared progress bar: each
 * phase is a bar of its own, started when the phase starts and ticked as its steps finish.
 */
export function reconcileProgress(progress: Progress) {
  let phase: ReconcileProgress['phase'] | undefined;
  let done = 0;
  return {
    update(p: ReconcileProgress): void {
      if (p.phase !== phase) {
        if (phase !== undefined) progress.done();
        phase = p.phase;
        done = 0;
        progress.start(p.total, LABEL[p.phase]);
      }
      if (p.done > done) {
        progress.tick(p.done - done);
        done = p.done;
      }
    },
    /** Ends the last phase's bar, so what follows starts on a clean line. */
    done(): void {
      if (phase !== undefined) progress.done();
    },
  };
}
