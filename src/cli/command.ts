import { Command, CommanderError, Option } from 'commander';
import type { Env, KNOWN_VARIABLES } from '../config.js';
import { envHelp } from './env-docs.js';

/** Where a command writes; tests pass functions that collect the text. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandContext {
  /** The environment, with ./.env (or --env-file) merged under it for commands that read settings. */
  env: Env;
  io: Io;
  cwd: string;
  /** Resolves when a long-running command should stop (default: SIGINT or SIGTERM). */
  untilStopped?: () => Promise<unknown>;
}

export interface OptionSpec {
  /** Commander's flag syntax: '--port <port>', '--force'. */
  flags: string;
  /** One line, ending with an example. */
  about: string;
}

export type Options = Record<string, string | boolean | undefined>;

/**
 * One subcommand, as data: the help, the option list and the runner. A new flag is one more
 * entry in `options` (and one more read in `run`); the help and the "did you mean" follow.
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, commander syntax: '<path>'. */
  args?: { syntax: string; about: string }[];
  options: OptionSpec[];
  /** The environment variables the command reads; listed in its --help with an example each. */
  env: readonly (typeof KNOWN_VARIABLES)[number][];
  examples: string[];
  /** More help, printed after the options (a list of the values an argument takes, say). */
  details?: string;
  /** Reads ./.env (or --env-file) before running. */
  readsSettings: boolean;
  /**
   * The exit code of a usage mistake (an unknown option, a missing value), when 1 means
   * something else for this command. Default 1.
   */
  usageExitCode?: number;
  run(args: string[], options: Options, context: CommandContext): Promise<number>;
}

/**
 * A command with subcommands of its own (`weapp-pay keys create`, `weapp-pay orders show ID`):
 * each subcommand is a CommandSpec.
 */
export interface CommandGroup {
  name: string;
  summary: string;
  subcommands: readonly CommandSpec[];
  examples: string[];
}

export const ENV_FILE_OPTION: OptionSpec = {
  flags: '--env-file <path>',
  about: 'read settings from this file instead of ./.env (it must exist), e.g. --env-file /etc/weapp-pay.env',
};

/** Thrown out of commander's parse so the caller gets the exit code instead of process.exit. */
export function configure(command: Command, io: Io): Command {
  return command
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help to see every option and the environment variables read)')
    .allowExcessArguments(false)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
}

/** Adds a spec's options, positional arguments and help sections to a commander command. */
export function describe(command: Command, spec: CommandSpec): Command {
  command.description(spec.summary);
  for (const arg of spec.args ?? []) command.argument(arg.syntax, arg.about);
  for (const opt of spec.readsSettings ? [...spec.options, ENV_FILE_OPTION] : spec.options) {
    command.addOption(new Option(opt.flags, opt.about));
  }
  const usage = spec.usageExitCode;
  if (usage !== undefined) {
    command.exitOverride((err) => {
      // --help and --version exit 0; only real mistakes take the command's own code.
      throw err.exitCode === 0 ? err : new CommanderError(usage, err.code, err.message);
    });
  }
  command.addHelpText(
    'after',
    `${spec.details ?? ''}${spec.env.length > 0 ? envHelp(spec.env) : ''}${examplesHelp(spec.examples)}`,
  );
  return command;
}

export function examplesHelp(examples: readonly string[]): string {
  return `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`;
}

/**
 * Parses one command's argv against its spec alone (no program around it), for callers that
 * take an argv array, such as `startSimulateCommand`.
 */
export function parseSpecArgs(spec: CommandSpec, argv: string[]): { args: string[]; options: Options } {
  const silent: Io = { out: () => {}, err: () => {} };
  const command = describe(configure(new Command(spec.name), silent), spec);
  try {
    command.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new Error(err.message.replace(/^error: /, ''));
    throw err;
  }
  return { args: command.args, options: command.opts() };
}
