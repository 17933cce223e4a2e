import { systemClock } from '../clock.js';
import { SERVICE_VARIABLES } from '../config.js';
import type { CommandSpec } from './command.js';
import { passed, renderJson, renderText, wantsColour } from './doctor/render.js';
import { runDoctorChecks } from './doctor/run-checks.js';

/**
 * `weapp-pay doctor`: the configuration mistakes behind most WeChat Pay support questions, each
 * named in one line with its fix. Offline by default; `--online` asks WeChat (or the simulator)
 * with calls that move no money. Prints no secret.
 */
export const doctorCommand: CommandSpec = {
  name: 'doctor',
  summary:
    'check the settings, certificate, database and (with --online) the WeChat credentials, one line each',
  options: [
    {
      flags: '--online',
      about:
        'also ask WeChat: an orderquery for an absent order, code2Session with a dummy code, the clock, e.g. --online',
    },
    {
      flags: '--json',
      about: 'print { ok, checks: [{ id, status, message, fix? }] } for machines, e.g. --json',
    },
  ],
  env: SERVICE_VARIABLES,
  examples: [
    'weapp-pay doctor',
    'weapp-pay doctor --online',
    'weapp-pay doctor --online --json --env-file /etc/weapp-pay.env',
  ],
  readsSettings: true,
  async run(_args, options, { env, io, cwd }) {
    const results = await runDoctorChecks({ env, cwd, online: options.online === true, clock: systemClock });
    io.out(
      options.json === true
        ? renderJson(results)
        : renderText(results, wantsColour(Boolean(process.stdout.isTTY), env)),
    );
    return passed(results) ? 0 : 1;
  },
};
