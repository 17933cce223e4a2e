import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from '../config.js';

const PEM_FILES = [
  {
    name: 'WECHAT_MCH_CERT',
    marker: 'CERTIFICATE',
    what: 'the merchant API certificate (apiclient_cert.pem)',
  },
  { name: 'WECHAT_MCH_CERT_KEY', marker: 'PRIVATE KEY', what: 'its private key (apiclient_key.pem)' },
] as const;

/**
 * Checks the certificate files before anything starts: a refund weeks later is the wrong moment
 * to learn that the path was mistyped. Each value is a PEM file's path (or the PEM itself).
 * Returns one problem per setting, each naming the setting and what to do.
 */
export function certificateProblems(env: Env, cwd: string): string[] {
  const problems: string[] = [];
  const set = PEM_FILES.filter((f) => env[f.name]?.trim());
  if (set.length === 1) {
    const missing = PEM_FILES.find((f) => !set.includes(f))!;
    problems.push(
      `${set[0]!.name} is set but ${missing.name} is not: set both, to ${missing.what}, or neither.`,
    );
  }
  for (const file of set) {
    const value = env[file.name]!.trim();
    let text = value;
    if (!value.includes('-----BEGIN')) {
      const path = resolve(cwd, value);
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'does not exist'
            : code === 'EISDIR'
              ? 'is a folder'
              : `cannot be read (${code})`;
        problems.push(
          `${file.name}=${value}: the file ${why} (${path}). Set ${file.name} to the path of ${file.what}.`,
        );
        continue;
      }
    }
    if (!text.includes(`-----BEGIN`) || !text.includes(file.marker)) {
      problems.push(
        `${file.name}=${value} is not a PEM ${file.marker.toLowerCase()}; set it to ${file.what}.`,
      );
    }
  }
  return problems;
}
