import type { painter } from '../colour.js';

/** A step that could not be done: printed as the run's last line, exit code 1. */
export class TriggerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerError';
  }
}

export interface Step {
  step: string;
  detail: string;
}

/** What trigger did, step by step: printed as it goes for people, collected for --json. */
export interface Report {
  readonly steps: Step[];
  done(step: string, detail: string): void;
  /** A line of advice that is not a step (what happens next, what to run). */
  note(text: string): void;
  readonly notes: string[];
  /** The order this run placed, once it has one (named even when a later step fails). */
  order?: { id: string; outTradeNo: string };
}

export function createReport(
  write: ((text: string) => void) | undefined,
  paint: ReturnType<typeof painter>,
): Report {
  const steps: Step[] = [];
  const notes: string[] = [];
  return {
    steps,
    notes,
    done(step, detail) {
      steps.push({ step, detail });
      write?.(`${paint('green', '✓')} ${step}${detail ? paint('dim', ` — ${detail}`) : ''}\n`);
    },
    note(text) {
      notes.push(text);
      write?.(`  ${text}\n`);
    },
  };
}
