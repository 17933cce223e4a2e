/**
 * A tiny `--name value` / `--name=value` / `--flag` parser: the commands take a handful of
 * options, and each says which ones it knows so a typo is an error, not a silent default.
 */
export function parseArgs(
  argv: string[],
  known: { values?: readonly string[]; flags?: readonly string[] },
): { ok: true; values: Record<string, string>; flags: Set<string> } | { ok: false; problem: string } {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match) return { ok: false, problem: `unexpected argument ${JSON.stringify(arg)}` };
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    if (known.flags?.includes(name)) {
      flags.add(name);
    } else if (known.values?.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) return { ok: false, problem: `--${name} needs a value` };
      values[name] = value;
    } else {
      return { ok: false, problem: `unknown option --${name}` };
    }
  }
  return { ok: true, values, flags };
}

export function parsePort(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** Resolves when the process is asked to stop. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
