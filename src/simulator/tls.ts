import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import type { MerchantConfig } from './config.js';

/**
 * Mutual TLS for `/secapi/pay/refund`. WeChat accepts a refund only from a client presenting the
 * merchant's API certificate (subject CN = mch_id, issued by WeChat's CA). The simulator plays
 * that CA with throwaway certificates made by the `openssl` command line tool: Node's crypto can
 * make keys but not X.509 certificates, and the CLI spares us a dependency.
 */

export interface TestCertificates {
  /** CA certificate (PEM) that issued both the server and the client certificate. */
  ca: string;
  /** CA private key, to issue more client certificates with the same CA. Test use only. */
  caKey: string;
  /** Server certificate for `localhost`, 127.0.0.1 and ::1. */
  serverCert: string;
  serverKey: string;
  /**
   * The merchant's API certificate: CN = mch_id, RSA 2048 like WeChat's, so it serves both
   * mutual TLS (v2 refunds) and API v3 request signing (its serial is the `serial_no`).
   */
  clientCert: string;
  clientKey: string;
}

const run = promisify(execFile);

/**
 * ECDSA P-256 keys for the CA and the server: generated in milliseconds where RSA 2048 takes a
 * noticeable fraction of a second on a busy machine, and TLS does not care which. The merchant
 * certificate is RSA 2048, as WeChat's are, because API v3 signs with RSA-SHA256.
 */
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
const RSA_KEY_ARGS = ['-newkey', 'rsa:2048'];

/** Runs the `openssl` command in `cwd`, with a message that says what is missing on failure. */
export async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(`openssl ${args[0]} failed (is the openssl command installed?): ${detail}`, {
      cause: error,
    });
  }
}

async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { cert: string; key: string },
  keyArgs: string[] = KEY_ARGS,
): Promise<{ cert: string; key: string }> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(
    dir,
    ['req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`].concat([
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]),
  );
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(12).toString('hex')}`,
    '-days',
    '825',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return {
    cert: await readFile(join(dir, `${name}.crt`), 'utf8'),
    key: await readFile(join(dir, `${name}.key`), 'utf8'),
  };
}

/**
 * Makes a test CA, a server certificate for the simulator's HTTPS port and a client
 * certificate for `mchId` (RSA 2048; the others ECDSA P-256), in PEM. Pass `ca` to issue from an existing test CA
 * (one CA for several merchants). Takes a few hundred milliseconds; needs `openssl` on PATH.
 *
 * @example
 * const certs = await generateTestCertificates({ mchId: '1900000109' });
 * createSimulator({ merchants, tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
 */
export async function generateTestCertificates(options: {
  mchId: string;
  ca?: { cert: string; key: string };
}): Promise<TestCertificates> {
  if (!/^[0-9]{1,32}$/.test(options.mchId)) throw new Error(`mchId must be digits (got ${options.mchId})`);
  const dir = await mkdtemp(join(tmpdir(), 'weapp-pay-sim-certs-'));
  try {
    let ca = options.ca;
    if (!ca) {
      await openssl(dir, [
        'req',
        '-x509',
        ...KEY_ARGS,
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '3650',
        '-sha256',
        '-subj',
        '/O=weapp-pay simulator/CN=weapp-pay simulator test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      ca = {
        cert: await readFile(join(dir, 'ca.crt'), 'utf8'),
        key: await readFile(join(dir, 'ca.key'), 'utf8'),
      };
    } else {
      await writeFile(join(dir, 'ca.crt'), ca.cert);
      await writeFile(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    }
    const files = { cert: 'ca.crt', key: 'ca.key' };
    const server = await issue(
      dir,
      'server',
      '/O=weapp-pay simulator/CN=localhost',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n',
      files,
    );
    const client = await issue(
      dir,
      'client',
      `/O=Tenpay.com/OU=Tenpay.com CA Center/CN=${options.mchId}`,
      'extendedKeyUsage=clientAuth\n',
      files,
      RSA_KEY_ARGS,
    );
    return {
      ca: ca.cert,
      caKey: ca.key,
      serverCert: server.cert,
      serverKey: server.key,
      clientCert: client.cert,
      clientKey: client.key,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fingerprints = new WeakMap<MerchantConfig, string>();

function pinnedFingerprint(merchant: MerchantConfig): string | undefined {
  if (!merchant.cert) return undefined;
  let fp = fingerprints.get(merchant);
  if (fp === undefined) {
    fp = new X509Certificate(merchant.cert).fingerprint256;
    fingerprints.set(merchant, fp);
  }
  return fp;
}

/**
 * Why this connection may not ask for a refund for `merchant`, or `undefined` when it may: it
 * must be TLS with a client certificate that is either exactly the merchant's configured one,
 * or chains to the simulator's CA and names the mch_id as its CN.
 */
export function clientCertProblem(socket: Socket, merchant: MerchantConfig): string | undefined {
  if (!(socket instanceof TLSSocket)) return '证书错误：退款须通过双向TLS携带商户API证书调用';
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return '证书错误：未提供商户API证书';
  if (pinnedFingerprint(merchant) === peer.fingerprint256) return undefined;
  if (!socket.authorized) return '证书错误：商户API证书无效';
  if (peer.subject?.CN !== merchant.mchId) return '证书错误：证书与商户号不匹配';
  return undefined;
}
