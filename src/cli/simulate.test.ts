import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_V3_KEY, PLATFORM_PRIVATE_KEY, PLATFORM_PUBLIC_KEY } from '../../test/fixtures/v3-keys.js';
import type { PublishedKeys } from '../simulator/index.js';
import { startSimulateCommand } from './simulate.js';

const ENV = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'cli-test-secret-value',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcdef',
};

describe('weapp-pay simulate', () => {
  it('registers the merchant from the environment and prints what it serves, never a secret', async () => {
    let out = '';
    const running = await startSimulateCommand(['--port', '0'], ENV, (s) => {
      out += s;
    });
    try {
      expect(out).toContain(`http   ${running.url}`);
      expect(out).toContain('merchant 1900000109: appids wx1234567890abcdef');
      expect(out).toContain('POST /pay/unifiedorder');
      expect(out).not.toContain(ENV.WECHAT_MCH_KEY);
      expect(out).not.toContain(ENV.WECHAT_SECRET);
      const res = await fetch(`${running.url}/sim/clock`);
      expect(((await res.json()) as { time_scale: number }).time_scale).toBe(1);
    } finally {
      await running.close();
    }
  });

  it('serves the HTTPS port with fresh test certificates when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-certs-'));
    let out = '';
    const running = await startSimulateCommand(
      ['--port', '0', '--tls-port', '0', '--cert-dir', dir, '--time-scale', '60'],
      ENV,
      (s) => {
        out += s;
      },
    );
    try {
      expect(running.tlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(join(dir, 'ca.pem'))).toBe(true);
      expect(existsSync(join(dir, 'client-1900000109-key.pem'))).toBe(true);
      expect(out).not.toContain('PRIVATE KEY');
      expect(running.simulator.timeScale).toBe(60);
    } finally {
      await running.close();
    }
  });

  it('sets the order lifetime from --order-lifetime-days, and refuses a bad value', async () => {
    const running = await startSimulateCommand(
      ['--port', '0', '--order-lifetime-days', '30'],
      ENV,
      () => undefined,
    );
    try {
      expect(running.simulator.behaviour.orderLifetimeDays).toBe(30);
    } finally {
      await running.close();
    }
    await expect(
      startSimulateCommand(['--port', '0', '--order-lifetime-days', 'week'], ENV, () => undefined),
    ).rejects.toThrow('--order-lifetime-days must be a number');
  });

  it('signs v3 with WECHAT_PAY_PRIVATE_KEY in the --v3-key-mode asked for, and publishes it at /sim/v3/keys', async () => {
    let out = '';
    const env = { ...ENV, WECHAT_API_V3_KEY: API_V3_KEY, WECHAT_PAY_PRIVATE_KEY: PLATFORM_PRIVATE_KEY };
    const running = await startSimulateCommand(['--port', '0', '--v3-key-mode', 'both'], env, (s) => {
      out += s;
    });
    try {
      expect(out).toContain('v3 keys: both mode, WeChat Pay private key from WECHAT_PAY_PRIVATE_KEY');
      expect(out).not.toContain(API_V3_KEY);
      expect(out).not.toContain('PRIVATE KEY-----');
      const keys = (await (await fetch(`${running.url}/sim/v3/keys`)).json()) as PublishedKeys;
      expect(keys.publicKeyPem.replace(/\s/g, '')).toBe(PLATFORM_PUBLIC_KEY.replace(/\s/g, ''));
      expect(keys.certificates).toHaveLength(1);
      expect(running.simulator.state.merchants.get('1900000109')?.apiV3Key).toBe(API_V3_KEY);
    } finally {
      await running.close();
    }
    await expect(
      startSimulateCommand(['--port', '0', '--v3-key-mode', 'platform'], ENV, () => undefined),
    ).rejects.toThrow('--v3-key-mode must be one of public-key, certificate, both');
  });

  it('sets behaviour knobs from --knob name=value, shows them, and refuses bad ones before listening', async () => {
    let out = '';
    const running = await startSimulateCommand(
      [
        '--port',
        '0',
        '--knob',
        'refundDelaySeconds=5',
        'closeOrderRule=systemerror',
        '--knob',
        'notifyRetrySchedule=1,2',
      ],
      ENV,
      (s) => {
        out += s;
      },
    );
    try {
      expect(running.simulator.behaviour).toMatchObject({
        refundDelaySeconds: 5,
        closeOrderRule: 'systemerror',
        notifyRetrySchedule: [1, 2],
      });
      expect(out).toContain(
        'knobs: refundDelaySeconds=5 closeOrderRule="systemerror" notifyRetrySchedule=[1,2]',
      );
      const knobs = (await (await fetch(`${running.url}/sim/knobs`)).json()) as {
        knobs: { refundDelaySeconds: number };
      };
      expect(knobs.knobs.refundDelaySeconds).toBe(5);
    } finally {
      await running.close();
    }
    await expect(
      startSimulateCommand(
        ['--port', '0', '--knob', 'closeOrderRule=sometimes', 'refundDelay=5', 'codeSingleUse=yes', 'oops'],
        ENV,
        () => undefined,
      ),
    ).rejects.toThrow('--knob takes name=value (got "oops")');
    await expect(
      startSimulateCommand(
        ['--port', '0', '--knob', 'closeOrderRule=sometimes', 'refundDelay=5'],
        ENV,
        () => undefined,
      ),
    ).rejects.toThrow(
      /^--knob: closeOrderRule must be off or systemerror or noop \(got "sometimes"\); refundDelay is not a knob \(did you mean refundDelaySeconds\?\)/,
    );
  });

  it('refuses to start without a merchant', async () => {
    await expect(startSimulateCommand(['--port', '0'], {}, () => undefined)).rejects.toThrow(
      'no merchant configured',
    );
  });
});
