import { painter, wantsColour } from './colour.js';

/**
 * Progress of a long job (migrations, benchmark scenarios, a reconciliation): a bar redrawn in
 * place on a terminal, one plain line per step otherwise (a log file, a pipe, CI). Written to
 * stderr by default, so a command's stdout stays its result.
 *
 * @example
 * const progress = createProgress();
 * progress.start(migrations.length, 'migrate');
 * for (const m of migrations) { await run(m); progress.tick(1, m.name); }
 * progress.done();
 */
export interface Progress {
  start(total: number, label: string): void;
  /** `n` more steps are done; `detail` names the last one ("0003_refunds"). */
  tick(n?: number, detail?: string): void;
  /** A line of its own, printed above the bar (plain output: just the line). */
  log(line: string): void;
  /** Ends the bar with a final line; `summary` replaces "done". */
  done(summary?: string): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressOutput;
  env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since some fixed point; tests pass a fake. */
  now?: () => number;
}

const BAR_WIDTH = 24;
/** A terminal is redrawn at most this often: a job of a million ticks must not print a million bars. */
const REDRAW_MS = 80;

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const paint = painter(wantsColour(tty, options.env ?? process.env));
  let total = 0;
  let count = 0;
  let label = '';
  let detail = '';
  let startedAt = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let active = false;

  const fraction = () => (total > 0 ? `${count}/${total}` : `${count}`);
  const seconds = () => `${((now() - startedAt) / 1000).toFixed(1)} s`;

  function bar(): string {
    const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((count / total) * BAR_WIDTH)) : 0;
    const head = `${label} ${paint('cyan', '█'.repeat(filled))}${paint('dim', '░'.repeat(BAR_WIDTH - filled))} ${fraction()}`;
    // A line wider than the terminal would wrap, and \r would then redraw only its last part.
    const room = (stream.columns ?? 80) - (label.length + BAR_WIDTH + fraction().length + 3);
    const shown = detail.length > room ? `${detail.slice(0, Math.max(0, room - 1))}…` : detail;
    return shown ? `${head} ${shown}` : head;
  }

  function draw(force: boolean): void {
    if (!tty || !active) return;
    const t = now();
    if (!force && t - drawnAt < REDRAW_MS) return;
    drawnAt = t;
    stream.write(`\r\x1b[2K${bar()}`);
  }

  return {
    start(steps, name) {
      total = Math.max(0, steps);
      count = 0;
      label = name;
      detail = '';
      startedAt = now();
      drawnAt = Number.NEGATIVE_INFINITY;
      active = true;
      if (tty) draw(true);
      else stream.write(`${label}: ${total} step(s)\n`);
    },
    tick(n = 1, last) {
      count += n;
      detail = last ?? '';
      if (tty) draw(count >= total);
      else stream.write(`${label}: ${fraction()}${last ? ` ${last}` : ''}\n`);
    },
    log(line) {
      if (tty && active) stream.write(`\r\x1b[2K${line}\n`);
      else stream.write(`${line}\n`);
      draw(true);
    },
    done(summary) {
      if (!active) return;
      active = false;
      const end = `${label}: ${summary ?? `done, ${fraction()}`} (${seconds()})`;
      stream.write(tty ? `\r\x1b[2K${paint('green', '✓')} ${end}\n` : `${end}\n`);
    },
  };
}
