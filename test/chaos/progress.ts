/** A one-line progress bar for a terminal: runs done, violations, pace and what is left. */
export function progressBar(out: NodeJS.WriteStream, runs: number, deadline: number, started: number) {
  const width = 30;
  let last = '';
  const draw = (done: number, bad: number) => {
    const elapsed = Date.now() - started;
    const share = Number.isFinite(runs)
      ? done / runs
      : Math.min(1, elapsed / Math.max(1, deadline - started));
    const filled = Math.round(share * width);
    const pace = done / Math.max(elapsed / 60_000, 1e-9);
    const left = Number.isFinite(runs)
      ? `${Math.max(0, Math.round((runs - done) / Math.max(pace, 1e-9)))} min left`
      : `${Math.max(0, Math.round((deadline - Date.now()) / 60_000))} min left`;
    last = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}${Number.isFinite(runs) ? `/${runs}` : ''} runs | ${bad} broken | ${pace.toFixed(0)} runs/min | ${left}`;
    out.write(`\r${last}\x1b[K`);
  };
  return {
    update: draw,
    /** A line above the bar (a run that broke something). */
    print(line: string) {
      out.write(`\r\x1b[K${line}\n${last}`);
    },
    done() {
      out.write('\n');
    },
  };
}
