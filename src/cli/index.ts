/**
 * The `weapp-pay` command, parsed by commander. Each subcommand is a CommandSpec in its own file;
 * this dispatcher reads ./.env (or --env-file) for those that read settings and is the only code
 * bin/weapp-pay.js calls.
 */
import { Command, CommanderError } from 'commander';
import type { Env } from '../config.js';
import { auditCommand } from './audit.js';
import { backupCommand, restoreCommand } from './backup.js';
import {
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
  configure,
  describe,
  examplesHelp,
  type Io,
} from './command.js';
import { doctorCommand } from './doctor.js';
import { describeEnvSource, EnvFileError, readEnvFile } from './env-file.js';
import { eventsCommands } from './events.js';
import { keysCommand } from './keys.js';
import { listenCommand } from './listen.js';
import { logsCommand } from './logs.js';
import { migrateCommand } from './migrate.js';
import { ordersCommands } from './orders.js';
import { reconcileCommand } from './reconcile.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';
import { triggerCommand } from './trigger.js';

export type { Env } from '../config.js';
export type { Io } from './command.js';

export const COMMANDS: readonly (CommandSpec | CommandGroup)[] = [
  startCommand,
  serveCommand,
  migrateCommand,
  doctorCommand,
  simulateCommand,
  backupCommand,
  restoreCommand,
  auditCommand,
  reconcileCommand,
  keysCommand,
  triggerCommand,
  logsCommand,
  listenCommand,
  eventsCommands,
  ordersCommands,
];

const PROCESS_IO: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export interface MainOptions {
  io?: Io;
  cwd?: string;
  /** Resolves when a long-running command should stop (tests); default SIGINT or SIGTERM. */
  untilStopped?: () => Promise<unknown>;
}

export async function main(argv: string[], env: Env, options: MainOptions = {}): Promise<number> {
  const io = options.io ?? PROCESS_IO;
  const base = { io, cwd: options.cwd ?? process.cwd(), untilStopped: options.untilStopped };
  let exitCode = 0;
  const program = configure(new Command('weapp-pay'), io)
    .description('Self-hosted payment backend for WeChat Mini Programs, with a WeChat simulator.')
    .usage('<command> [options]')
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText(
      'after',
      '\nRun `weapp-pay <command> --help` for its options and the environment variables it reads.\n' +
        'Settings come from the environment and from ./.env when that file exists (real variables win).\n',
    );
  const register = (parent: Command, spec: CommandSpec, fullName = spec.name) =>
    describe(configure(parent.command(spec.name), io), spec).action(async (...received: unknown[]) => {
      const command = received.at(-1) as Command;
      exitCode = await runSpec({ ...spec, name: fullName }, command.args, command.opts(), env, base);
    });
  for (const entry of COMMANDS) {
    if (!('subcommands' in entry)) {
      register(program, entry);
      continue;
    }
    const group = configure(program.command(entry.name), io)
      .description(entry.summary)
      .helpCommand(false)
      .addHelpText('after', examplesHelp(entry.examples));
    for (const spec of entry.subcommands) register(group, spec, `${entry.name} ${spec.name}`);
  }
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return 1;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exitCode;
}

async function runSpec(
  spec: CommandSpec,
  args: string[],
  options: Record<string, string | boolean | undefined>,
  real: Env,
  base: Omit<CommandContext, 'env'>,
): Promise<number> {
  const { io, cwd } = base;
  let env = real;
  if (spec.readsSettings) {
    try {
      const read = readEnvFile(real, cwd, options.envFile as string | undefined);
      io.err(describeEnvSource(read));
      env = read.env;
    } catch (err) {
      if (!(err instanceof EnvFileError)) throw err;
      io.err(`weapp-pay ${spec.name}: ${err.message}\n`);
      return 1;
    }
  }
  return spec.run(args, options, { ...base, env });
}
