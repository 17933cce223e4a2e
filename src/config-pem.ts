import { readFileSync } from 'node:fs';
import type { Env } from './config.js';

const PEM = /^-----BEGIN [A-Z0-9 ]+-----/;

/**
 * A setting that holds a PEM, or a path to a file holding one: the merchant certificate and key
 * (v2 refunds, every v3 request) and the WeChat Pay public key. A PEM pasted into a .env file on
 * one line with `\n` escapes is accepted too. `undefined` when the setting is unset or unusable;
 * problems name the setting and the path, never the content (a private key must not reach a
 * terminal or a log).
 *
 * @example
 * const problems: string[] = [];
 * readPemSetting({ WECHAT_MCH_CERT: './apiclient_cert.pem' }, 'WECHAT_MCH_CERT', problems) // '-----BEGIN CERTIFICATE-----…'
 */
export function readPemSetting(env: Env, name: string, problems: string[]): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (PEM.test(raw)) return raw.replace(/\\n/g, '\n');
  try {
    const text = readFileSync(raw, 'utf8');
    if (PEM.test(text.trim())) return text;
    problems.push(`${name} points to ${raw}, which does not hold a PEM ("-----BEGIN …" is missing)`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`${name} must be a PEM or a readable file; cannot read ${raw} (${code})`);
  }
  return undefined;
}
