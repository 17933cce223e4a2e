/**
 * The `weapp-pay` command. Each subcommand lives in its own file and receives argv and the
 * environment explicitly; only this dispatcher is called from bin/weapp-pay.js.
 */
export type Env = Readonly<Record<string, string | undefined>>;

type Command = (argv: string[], env: Env) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

/** Registers a subcommand; kept as a table so `weapp-pay help` lists exactly what exists. */
function command(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

command(
  'start',
  'demo mode when no WeChat credentials are set: service + simulator on SQLite',
  async () => (await import('./start.js')).runStart,
);
command(
  'serve',
  'run the payment service alone, configured from the environment',
  async () => (await import('./serve.js')).runServe,
);
command(
  'migrate',
  'apply database migrations and exit',
  async () => (await import('./migrate.js')).runMigrate,
);
command(
  'simulate',
  'run the WeChat simulator (login + Pay API v2) on port 3100',
  async () => (await import('./simulate.js')).runSimulate,
);

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: weapp-pay <command> [options]\n\nCommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`Unknown command ${JSON.stringify(name)}.\n\n${usage()}`);
    return 1;
  }
  const run = await entry.load();
  return run(rest, env);
}
