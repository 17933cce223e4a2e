import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from '../tls.js';

/**
 * A WeChat Pay platform certificate (平台证书): X.509, RSA 2048, subject as WeChat's, a 40-hex
 * serial. Node cannot build certificates, so the `openssl` command does it, through `openssl ca`
 * because only that one accepts a start date: the simulator's clock may stand years away from
 * the machine's, and a certificate must already be valid on the simulated day.
 */

const CA_CONFIG = `[ ca ]
default_ca = sim
[ sim ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
countryName = optional
`;

const SUBJECT = '/C=CN/O=Tenpay.com/OU=Tenpay.com CA Center/CN=Tenpay.com Root CA';

/** `20240101000000Z`, the form `openssl ca -startdate` takes. */
const asn1Time = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/**
 * Issues a self-signed platform certificate for `privateKeyPem`, valid from `notBeforeMs` for
 * `days`. Returns its PEM.
 *
 * @example
 * const pem = await issuePlatformCertificate({ privateKeyPem, notBeforeMs: Date.UTC(2024, 0, 1), days: 1825 });
 */
export async function issuePlatformCertificate(options: {
  privateKeyPem: string;
  notBeforeMs: number;
  days: number;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weapp-pay-sim-platform-'));
  try {
    // A positive 20-byte serial: the top bit clear, as DER integers want.
    const serial = randomBytes(20);
    serial[0] = (serial[0]! & 0x7f) | 0x10;
    await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), `${serial.toString('hex').toUpperCase()}\n`);
    await writeFile(join(dir, 'key.pem'), options.privateKeyPem, { mode: 0o600 });
    await openssl(dir, ['req', '-new', '-key', 'key.pem', '-subj', SUBJECT, '-out', 'cert.csr']);
    await openssl(dir, [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      'key.pem',
      '-in',
      'cert.csr',
      '-out',
      'cert.pem',
      '-notext',
      '-startdate',
      asn1Time(options.notBeforeMs),
      '-enddate',
      asn1Time(options.notBeforeMs + options.days * 86_400_000),
    ]);
    return await readFile(join(dir, 'cert.pem'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
