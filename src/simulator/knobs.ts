import { KNOB_CHOICES, resolveBehaviour, type SimBehaviour } from './config.js';

/**
 * Setting the behaviour knobs (config.ts) from outside: `weapp-pay simulate --knob name=value`
 * and `POST /sim/knobs {name: value}`. Both go through `checkKnobs`, which refuses an unknown
 * name, a value of the wrong type and anything resolveBehaviour refuses, listing every problem,
 * so a bad request changes nothing.
 */

/** Every knob with its default: the shape each value must have. */
const SHAPES: Readonly<SimBehaviour> = resolveBehaviour(undefined, false);
export const KNOB_NAMES = Object.keys(SHAPES) as (keyof SimBehaviour)[];

function closest(name: string): string {
  const lower = name.toLowerCase();
  const near = KNOB_NAMES.find((k) => k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase()));
  return near ? ` (did you mean ${near}?)` : '';
}

/**
 * A knob's value from text, by the type of its default: a number, `true`/`false`, seconds
 * separated by commas (notifyRetrySchedule), or a word.
 *
 * @example
 * knobFromText('refundDelaySeconds', '5') // 5
 * knobFromText('notifyRetrySchedule', '1,1,2') // [1, 1, 2]
 * knobFromText('codeSingleUse', 'yes') // { error: 'codeSingleUse takes true or false (got "yes")' }
 */
export function knobFromText(name: keyof SimBehaviour, text: string): unknown {
  const shape = SHAPES[name];
  if (typeof shape === 'number') {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    return Number.isFinite(n) ? n : { error: `${name} takes a number (got ${JSON.stringify(text)})` };
  }
  if (typeof shape === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    return { error: `${name} takes true or false (got ${JSON.stringify(text)})` };
  }
  if (Array.isArray(shape)) {
    const list = text.split(',').map((s) => Number(s.trim()));
    return list.every(Number.isFinite)
      ? list
      : { error: `${name} takes seconds separated by commas (got ${JSON.stringify(text)})` };
  }
  return text;
}

const isError = (v: unknown): v is { error: string } =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  typeof (v as { error?: unknown }).error === 'string';

function typeProblem(name: keyof SimBehaviour, value: unknown): string | undefined {
  const shape = SHAPES[name];
  const choices = KNOB_CHOICES[name];
  if (choices && !choices.includes(value as string | number))
    return `${name} must be ${choices.join(' or ')} (got ${JSON.stringify(value)})`;
  if (Array.isArray(shape)) {
    return Array.isArray(value) && value.every((v) => typeof v === 'number')
      ? undefined
      : `${name} takes a list of seconds, e.g. [15, 15, 30]`;
  }
  if (typeof value !== typeof shape) return `${name} takes a ${typeof shape} (got ${JSON.stringify(value)})`;
  return undefined;
}

/**
 * Checks `changes` against `current` (JSON values; a string for a knob that is not a string is
 * read as knobFromText reads a flag) and returns the new values, or every problem.
 */
export function checkKnobs(
  current: Readonly<SimBehaviour>,
  changes: Readonly<Record<string, unknown>>,
): { ok: Partial<SimBehaviour> } | { problems: string[] } {
  const problems: string[] = [];
  const accepted: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(changes)) {
    if (!(KNOB_NAMES as string[]).includes(name)) {
      problems.push(`${name} is not a knob${closest(name)}; the knobs are ${KNOB_NAMES.join(', ')}`);
      continue;
    }
    const knob = name as keyof SimBehaviour;
    const value = typeof raw === 'string' && typeof SHAPES[knob] !== 'string' ? knobFromText(knob, raw) : raw;
    const problem = isError(value) ? value.error : typeProblem(knob, value);
    if (problem) problems.push(problem);
    else accepted[name] = value;
  }
  if (problems.length === 0) {
    try {
      resolveBehaviour({ ...current, ...accepted }, current.refundRequiresClientCert);
    } catch (err) {
      problems.push(
        ...(err as Error).message
          .split('\n- ')
          .slice(1)
          .map((p) => p.replace(/^behaviour\./, '')),
      );
    }
  }
  return problems.length > 0 ? { problems } : { ok: accepted as Partial<SimBehaviour> };
}

/**
 * `--knob name=value` flags as knob values.
 *
 * @example
 * knobsFromFlags(['refundDelaySeconds=5', 'closeOrderRule=systemerror'])
 * // { ok: { refundDelaySeconds: 5, closeOrderRule: 'systemerror' } }
 */
export function knobsFromFlags(
  flags: readonly string[],
  current: Readonly<SimBehaviour>,
): { ok: Partial<SimBehaviour> } | { problems: string[] } {
  const pairs: Record<string, string> = {};
  const problems: string[] = [];
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) problems.push(`--knob takes name=value (got ${JSON.stringify(flag)})`);
    else pairs[flag.slice(0, at)] = flag.slice(at + 1);
  }
  if (problems.length > 0) return { problems };
  return checkKnobs(current, pairs);
}
