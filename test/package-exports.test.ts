import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A user who wants only the protocol layer imports `weapp-pay/wechat`. This runs a separate
 * Node process from the repository root, so the import resolves through package.json
 * "exports" (self-reference) exactly as it would for a user, against the built dist/.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const probe = `
const m = await import('weapp-pay/wechat');
const fields = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' };
console.log(JSON.stringify({
  md5: m.signV2(fields, '192006250b4c09247ec02edce69f6a2d'),
  sameInNamespace: m.v2.signV2 === m.signV2,
  functions: ['signV2', 'verifyV2', 'parseXml', 'buildXml', 'createV2Client', 'createLoginClient', 'createTransport',
    'verifyPaymentNotification', 'notifyReply', 'requestPaymentParams', 'decryptRefundReqInfo', 'isRetryable',
    'parseFen', 'formatWechatTime'].filter((name) => typeof m[name] !== 'function'),
  v3: ['signV3', 'verifyWechatpayHeaders', 'decryptAeadAes256Gcm', 'createV3KeyStore', 'verifyV3Notification',
    'buildV3Notification', 'v3PayParams', 'createV3Client'].filter((name) => typeof m.v3[name] !== 'function'),
  v3NotFlat: typeof m.signV3 === 'undefined',
  errors: typeof m.WechatRejectedError === 'function' && new m.WechatRetryableError({ layer: 'result', errCode: 'SYSTEMERROR', message: '' }) instanceof m.WechatError,
}));
`;

describe('package export weapp-pay/wechat', () => {
  it('is built (npm test builds before running the suite)', () => {
    expect(existsSync(join(root, 'dist/wechat/index.js')), 'run `npm run build` first').toBe(true);
  });

  it('imports on its own in a fresh Node process and signs the official vector', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
      sameInNamespace: true,
      functions: [],
      v3: [],
      v3NotFlat: true,
      errors: true,
    });
  });

  it('ships type declarations for the entry and the v2 client', () => {
    const types = readFileSync(join(root, 'dist/wechat/index.d.ts'), 'utf8');
    expect(types).toContain("export * as v2 from './v2/index.js'");
    expect(types).toContain("export * as v3 from './v3/index.js'");
    const client = readFileSync(join(root, 'dist/wechat/v2/client.d.ts'), 'utf8');
    expect(client).toContain('export declare function createV2Client(options: V2ClientOptions): V2Client;');
  });
});

/** A shop's backend imports only the verifier: it must load without the service's dependencies. */
const webhooksProbe = `
const m = await import('weapp-pay/webhooks');
const { createHmac } = await import('node:crypto');
const body = '{"id":"evt_1","type":"payment.succeeded","created":1700000000,"livemode":false,"data":{"object":{"object":"payment"}}}';
const v1 = createHmac('sha256', 'whsec_probe').update('1700000000.' + body).digest('hex');
const ok = m.verifyWebhook(body, 't=1700000000,v1=' + v1, 'whsec_probe', { toleranceSeconds: 300, now: 1700000100 });
const bad = m.verifyWebhook(body, 't=1700000000,v1=' + v1, 'whsec_other', { now: 1700000100 });
console.log(JSON.stringify({
  ok: ok.ok && ok.event.id,
  bad: bad.reason,
  types: m.WEBHOOK_EVENT_TYPES,
  header: m.SIGNATURE_HEADER,
  signs: m.signatureHeader(body, ['whsec_probe'], 1700000000) === 't=1700000000,v1=' + v1,
}));
`;

describe('package export weapp-pay/webhooks', () => {
  it('imports on its own in a fresh Node process and verifies a body signed by node:crypto', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', webhooksProbe], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      ok: 'evt_1',
      bad: 'bad_signature',
      types: [
        'payment.succeeded',
        'payment.closed',
        'payment.review',
        'refund.succeeded',
        'refund.failed',
        'reconciliation.mismatch',
      ],
      header: 'Weapp-Pay-Signature',
      signs: true,
    });
  });

  it('ships the typed event shapes and the verifier signature', () => {
    const types = readFileSync(join(root, 'dist/webhooks/signature.d.ts'), 'utf8');
    expect(types).toContain('export declare function verifyWebhook(');
    const events = readFileSync(join(root, 'dist/webhooks/event-types.d.ts'), 'utf8');
    expect(events).toContain('export type WebhookEvent =');
    expect(events).toContain('export interface PaymentObject');
  });

  it('loads nothing but node:crypto and its own files (no database, no Fastify)', () => {
    const sources = ['index.js', 'signature.js', 'event-types.js'].map((f) =>
      readFileSync(join(root, 'dist/webhooks', f), 'utf8'),
    );
    const imports = sources.flatMap((s) =>
      [...s.matchAll(/^(?:import|export) .* from '([^']+)'/gm)].map((m) => m[1]),
    );
    expect([...new Set(imports)].sort()).toEqual(['./event-types.js', './signature.js', 'node:crypto']);
  });
});
