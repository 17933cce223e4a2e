import { wantsColour } from './colour.js';
import type { CommandContext, Io, OptionSpec } from './command.js';
import { createServiceClient, type ServiceClient, ServiceError, serviceTarget } from './service-client.js';

/** `--json`, as every command that talks to the service offers it. */
export const JSON_OPTION: OptionSpec = {
  flags: '--json',
  about: 'print JSON for machines instead of lines for people, e.g. --json | jq .',
};

/** The environment variables of the commands that talk to a running service. */
export const SERVICE_ENV = ['WEAPP_PAY_URL', 'ADMIN_TOKEN'] as const;

/** The client for WEAPP_PAY_URL, saying on stderr when the token is the demo's. */
export function connect({ env, cwd, io }: CommandContext): ServiceClient {
  const target = serviceTarget(env, cwd);
  if (target.tokenFrom !== undefined && target.tokenFrom !== 'ADMIN_TOKEN') {
    io.err(`ADMIN_TOKEN is not set: using the demo's admin token from ${target.tokenFrom}\n`);
  }
  return createServiceClient(target);
}

/** Colours on stdout only when it is a terminal and NO_COLOR is unset. */
export function stdoutColour(env: CommandContext['env']): boolean {
  return wantsColour(Boolean(process.stdout.isTTY), env);
}

/** Runs a command body, printing a ServiceError as one line on stderr (exit 1). */
export async function reportingServiceErrors(
  io: Io,
  name: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    io.err(`weapp-pay ${name}: ${err.message}\n`);
    return 1;
  }
}

/** Resolves after `ms`, or at once when `stopped` has resolved. */
export function pause(ms: number, stopped: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void stopped.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
