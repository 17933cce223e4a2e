import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from '../config.js';

export interface EnvFileResult {
  /** The file's variables under the real environment's: a variable set in both keeps its real value. */
  env: Env;
  /** The file read, absolute; undefined when there was none. */
  file: string | undefined;
  /** How many of the file's variables the real environment overrode (named, never valued, in the note). */
  overridden: string[];
}

export class EnvFileError extends Error {
  readonly code = 'ENV_FILE_UNREADABLE';
}

/**
 * Reads `./.env` when it exists, or the file `--env-file` names (which must exist), with Node's
 * own parser (`util.parseEnv`, the same syntax as `node --env-file`). Real environment variables
 * win, as with every dotenv tool: a process manager's setting must not be undone by a stale file.
 *
 * @example
 * const { env, file } = readEnvFile(process.env, process.cwd(), undefined);
 */
export function readEnvFile(real: Env, cwd: string, explicit: string | undefined): EnvFileResult {
  const file = resolve(cwd, explicit ?? '.env');
  if (explicit === undefined && !existsSync(file)) return { env: real, file: undefined, overridden: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new EnvFileError(
      `--env-file ${explicit ?? file}: the file ${why} (${file}). Give the path of an existing settings file, or leave --env-file out to read ./.env when there is one.`,
    );
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  const overridden = Object.keys(fromFile).filter((name) => real[name] !== undefined);
  return { env: { ...fromFile, ...real }, file, overridden };
}

/** The start-up line saying where settings came from; names only, never a value. */
export function describeEnvSource(result: EnvFileResult): string {
  if (!result.file) return 'settings: environment only (no .env file in this directory)\n';
  const over =
    result.overridden.length > 0 ? `; the environment overrides ${result.overridden.join(', ')}` : '';
  return `settings: read ${result.file}${over}\n`;
}
