import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KNOWN_VARIABLES, loadConfig, wechatCredentials } from '../../src/config.js';
import { REPO } from './cli-harness.js';

const text = readFileSync(join(REPO, '.env.example'), 'utf8');
/** The file with every `# NAME=value` line uncommented, as a user filling it in would. */
const uncommented = parseEnv(text.replace(/^# ([A-Z0-9_]+=)/gm, '$1')) as Record<string, string>;

describe('.env.example', () => {
  it('shows every variable weapp-pay knows, and no other', () => {
    expect(Object.keys(uncommented).sort()).toEqual([...KNOWN_VARIABLES].sort());
  });

  it('copied as it is to .env, sets nothing: the demo runs', () => {
    expect(parseEnv(text)).toEqual({});
  });

  it('states the defaults config.ts applies, and its examples are valid once the secrets are filled in', () => {
    const filled = {
      ...uncommented,
      WECHAT_SECRET: 'a-secret',
      WECHAT_MCH_KEY: 'k'.repeat(32),
      ADMIN_TOKEN: 't'.repeat(32),
      // The example paths name files a shop downloads from the merchant platform; none exist here.
      WECHAT_MCH_CERT: '',
      WECHAT_MCH_CERT_KEY: '',
    };
    const loaded = loadConfig(filled);
    expect(loaded).toMatchObject({ ok: true });
    expect(wechatCredentials(filled).missing).toEqual([]);
    const defaults = loadConfig({
      ...filled,
      ...Object.fromEntries(
        ['PORT', 'HOST', 'DATABASE_URL', 'ORDER_TTL_SECONDS', 'RECONCILE_BATCH', 'RECONCILE_DAILY'].map(
          (n) => [n, ''],
        ),
      ),
    });
    if (!loaded.ok || !defaults.ok) throw new Error('both should load');
    for (const key of ['port', 'host', 'databaseUrl', 'orderTtlMs', 'reconcile', 'reconcileDaily'] as const) {
      expect(loaded.config[key]).toEqual(defaults.config[key]);
    }
  });
});
