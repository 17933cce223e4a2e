import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DemoCredentials {
  appid: string;
  secret: string;
  mchId: string;
  key: string;
  /** API v3's 32-character APIv3 key (absent from files an older demo wrote). */
  apiV3Key?: string;
  adminToken: string;
}

/**
 * Fresh test credentials for a demo: the service and the simulator share them, and they are
 * worthless anywhere else.
 */
export function generateDemoCredentials(): DemoCredentials {
  return {
    appid: `wx${randomBytes(8).toString('hex')}`,
    secret: randomBytes(16).toString('hex'),
    mchId: `19${String(randomInt(10_000_000, 99_999_999))}`,
    key: randomBytes(24).toString('base64url').slice(0, 32),
    apiV3Key: randomBytes(24).toString('base64url').slice(0, 32),
    adminToken: randomBytes(24).toString('base64url'),
  };
}

/**
 * The demo's credentials, kept in `file` (mode 0600) so a restarted demo signs with the same key:
 * its earlier PENDING orders are then queried, and settled, instead of being rejected for a bad
 * signature and left pending. A file that cannot be parsed is replaced, and said so.
 */
export function loadOrCreateDemoCredentials(file: string): {
  credentials: DemoCredentials;
  created: boolean;
  replaced?: string;
} {
  let replaced: string | undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>;
    if (isComplete(parsed)) return { credentials: parsed, created: false };
    replaced = 'it lacked some fields';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') replaced = (err as Error).message;
  }
  const credentials = generateDemoCredentials();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file.
  return { credentials, created: true, ...(replaced ? { replaced } : {}) };
}

function isComplete(value: Partial<DemoCredentials>): value is DemoCredentials {
  return (['appid', 'secret', 'mchId', 'key', 'adminToken'] as const).every(
    (k) => typeof value[k] === 'string' && value[k] !== '',
  );
}
