import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WechatError, WechatUnknownOutcomeError } from '../errors.js';
import { createTransport } from '../transport.js';
import { createV2Client } from './client.js';
import { signV2 } from './sign.js';
import { buildXml, parseXml } from './xml.js';

/**
 * Refund is the one v2 call that needs the merchant certificate (mutual TLS). A throwaway CA,
 * server certificate and client certificates are made with the openssl CLI for this run only
 * (EC P-256: fast to generate); nothing is committed and nothing leaves 127.0.0.1.
 */
const key = 'SimulatorTestKey0123456789abcdef';
const appid = 'wx1234567890abcdef';
const mchId = '1900000109';

let dir = '';
let server: Server;
let baseUrl = '';
const pem: Record<string, string> = {};
const seen: Array<{ path: string; peer: string; fields: Record<string, string> }> = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mtls-'));
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=weapp-pay test CA');
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.pem',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
  );
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'client.key',
    '-out',
    'client.pem',
    '-subj',
    `/CN=${mchId}`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
  );
  // A certificate from a CA the server does not trust.
  openssl('req', '-x509', ...ec, '-keyout', 'stranger.key', '-out', 'stranger.pem', '-subj', '/CN=stranger');
  for (const name of [
    'ca.pem',
    'server.key',
    'server.pem',
    'client.key',
    'client.pem',
    'stranger.key',
    'stranger.pem',
  ]) {
    pem[name] = readFileSync(join(dir, name), 'utf8');
  }

  server = createServer(
    {
      key: pem['server.key'],
      cert: pem['server.pem'],
      ca: pem['ca.pem'],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const fields = { ...parseXml(Buffer.concat(chunks)) };
        const peer = (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '';
        seen.push({ path: req.url ?? '', peer: String(peer), fields });
        const answer: Record<string, string> = {
          return_code: 'SUCCESS',
          appid,
          mch_id: mchId,
          nonce_str: 'n0nce',
          result_code: 'SUCCESS',
          out_trade_no: fields.out_trade_no ?? '',
          out_refund_no: fields.out_refund_no ?? '',
          refund_id: '50300000002024010112345678901',
          refund_fee: fields.refund_fee ?? '',
          total_fee: fields.total_fee ?? '',
          cash_fee: fields.total_fee ?? '',
        };
        res.end(buildXml({ ...answer, sign: signV2(answer, key) }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const refund = {
  outTradeNo: 'ORDER_20240101_0001',
  outRefundNo: 'R20240101000001',
  totalFee: 100,
  refundFee: 30,
};

describe('refund over mutual TLS', () => {
  it('succeeds with the merchant certificate, which the server sees', async () => {
    const client = createV2Client({
      baseUrl,
      appid,
      mchId,
      key,
      clientCert: { cert: pem['client.pem'] as string, key: pem['client.key'] as string, ca: pem['ca.pem'] },
    });
    const result = await client.refund(refund);
    await client.close();
    expect([result.refundId, result.outRefundNo, result.refundFee]).toEqual([
      '50300000002024010112345678901',
      'R20240101000001',
      30,
    ]);
    expect(seen.at(-1)).toMatchObject({ path: '/secapi/pay/refund', peer: mchId });
    expect(seen.at(-1)?.fields).toMatchObject({
      out_refund_no: 'R20240101000001',
      total_fee: '100',
      refund_fee: '30',
    });
  });

  it('is refused by the server without a client certificate; the request never arrives', async () => {
    const before = seen.length;
    const transport = createTransport({ timeoutMs: 2000, tls: { ca: pem['ca.pem'] } });
    const client = createV2Client({ baseUrl, appid, mchId, key, secapiTransport: transport });
    const err = await client.refund(refund).then(
      () => undefined,
      (e: unknown) => e,
    );
    await transport.close();
    expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
    expect((err as WechatUnknownOutcomeError).reason).toBe('network');
    expect(seen.length).toBe(before);
  });

  it('is refused with a certificate from an untrusted CA', async () => {
    const before = seen.length;
    const client = createV2Client({
      baseUrl,
      appid,
      mchId,
      key,
      clientCert: {
        cert: pem['stranger.pem'] as string,
        key: pem['stranger.key'] as string,
        ca: pem['ca.pem'],
      },
    });
    const err = await client.refund(refund).then(
      () => undefined,
      (e: unknown) => e,
    );
    await client.close();
    expect((err as WechatUnknownOutcomeError).reason).toBe('network');
    expect(seen.length).toBe(before);
  });

  it('says a certificate is required when none is configured', async () => {
    const client = createV2Client({ baseUrl, appid, mchId, key });
    const err = await client.refund(refund).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WechatError);
    expect((err as WechatError).code).toBe('CLIENT_CERT_REQUIRED');
  });
});
