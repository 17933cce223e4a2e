import type { ReconcileProgress } from '../reconcile/reconcile-day.js';

const WIDTH = 24;

const LABEL: Record<ReconcileProgress['phase'], string> = {
  download: "downloading WeChat's bill",
  compare: 'comparing it with our orders and refunds',
  settle: 'settling the differences by query',
  save: 'saving the report and its anomalies',
};

/**
 * Shows a reconciliation's progress on stderr: on a terminal one bar redrawn in place
 * (`\r`, cleared at the end); otherwise plain lines, one when a phase starts and one per finding
 * settled, so a log file or CI output stays readable.
 *
 * @example
 * const progress = createProgress((s) => process.stderr.write(s), Boolean(process.stderr.isTTY));
 * await reconcileDay('2024-01-01', progress.update); progress.done();
 */
export function createProgress(write: (text: string) => void, tty: boolean) {
  let lastPhase: ReconcileProgress['phase'] | undefined;
  let drawn = false;
  return {
    update(p: ReconcileProgress): void {
      if (tty) {
        const filled = p.total === 0 ? WIDTH : Math.round((p.done / p.total) * WIDTH);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
        write(`\r\x1b[2K[${bar}] ${p.done}/${p.total} ${LABEL[p.phase]}`);
        drawn = true;
        return;
      }
      if (p.phase !== lastPhase) {
        lastPhase = p.phase;
        write(`${LABEL[p.phase]}${p.phase === 'settle' ? ` (${p.total})` : ''}…\n`);
      } else if (p.phase === 'settle' && p.done > 0) {
        write(`  settled ${p.done}/${p.total}\n`);
      }
    },
    /** Clears the bar so what follows starts on a clean line. */
    done(): void {
      if (tty && drawn) write('\r\x1b[2K');
    },
  };
}
