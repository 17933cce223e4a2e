import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { promisify } from 'node:util';
import { certificateSerial } from '../../wechat/v3/keys.js';
import type { V3KeyMode } from '../config.js';
import type { SimClock } from '../sim-clock.js';
import { issuePlatformCertificate } from './platform-certificate.js';

/**
 * The simulator's own WeChat Pay keys: the WeChat Pay public key (`PUB_KEY_ID_…`, no
 * expiry) and the platform certificates (rotating, X.509). The mode decides which of them sign:
 * `public-key`, `certificate`, or `both` for the migration, when either may sign and
 * `Wechatpay-Serial` says which. Keys are made on first use: RSA generation and `openssl` take
 * a noticeable moment, and most simulators never speak v3.
 */

export interface PlatformCertificate {
  serial: string;
  pem: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  privateKey: KeyObject;
}

export interface V3Signer {
  serial: string;
  privateKey: KeyObject;
}

export interface PublishedKeys {
  publicKeyId: string;
  publicKeyPem: string;
  certificates: { serial: string; pem: string; notBefore: string; notAfter: string }[];
}

export interface PlatformKeys {
  readonly mode: V3KeyMode;
  /** Makes the keys if they are not made yet. Every other method needs it to have resolved. */
  ready(): Promise<void>;
  publicKeyId(): string;
  /** Platform certificates, oldest first; empty in `public-key` mode until a rotation. */
  certificates(): PlatformCertificate[];
  /** Serials a response may be signed with in this mode. */
  usableSerials(): string[];
  /** The key that signs a response: the one the request's `Wechatpay-Serial` names, if usable. */
  responseSigner(requestedSerial: string | undefined): V3Signer;
  /** The key that signs the next notification (in `both` mode, alternately one and the other). */
  notificationSigner(): V3Signer;
  /** Issues a new platform certificate; the old ones stay listed and valid until they expire. */
  rotate(): Promise<PlatformCertificate>;
  published(): PublishedKeys;
}

const generateRsa = promisify(generateKeyPair);

/** Platform certificates are valid 5 years, as WeChat's. */
const CERT_DAYS = 5 * 365;

async function newRsaKey(): Promise<KeyObject> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  return privateKey;
}

export function createPlatformKeys(options: {
  mode: V3KeyMode;
  clock: SimClock;
  /** PEM; default: generated. In `certificate` mode it is the first platform certificate's key. */
  privateKey?: string | undefined;
}): PlatformKeys {
  const { mode, clock } = options;
  const given = options.privateKey ? createPrivateKey(options.privateKey) : undefined;
  let publicKey: { id: string; privateKey: KeyObject } | undefined;
  const certificates: PlatformCertificate[] = [];
  let making: Promise<void> | undefined;

  async function addCertificate(privateKey: KeyObject): Promise<PlatformCertificate> {
    // Valid from a day before the simulated now, so it is valid whatever the clock says.
    const pem = await issuePlatformCertificate({
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      notBeforeMs: clock.now() - 86_400_000,
      days: CERT_DAYS,
    });
    const x509 = new X509Certificate(pem);
    const cert: PlatformCertificate = {
      serial: certificateSerial(pem),
      pem,
      notBefore: new Date(x509.validFrom).toISOString(),
      notAfter: new Date(x509.validTo).toISOString(),
      privateKey,
    };
    certificates.push(cert);
    return cert;
  }

  async function make(): Promise<void> {
    const key = given ?? (await newRsaKey());
    const digits = String(clock.now()).padStart(13, '0');
    publicKey = {
      id: `PUB_KEY_ID_01${digits}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`,
      privateKey: key,
    };
    if (mode !== 'public-key') await addCertificate(mode === 'certificate' ? key : await newRsaKey());
  }

  const made = () => {
    if (!publicKey) throw new Error('simulator v3 keys used before ready()');
    return publicKey;
  };
  const newest = () => certificates[certificates.length - 1];
  const live = () => {
    const now = clock.now();
    return certificates.filter((c) => Date.parse(c.notBefore) <= now && now < Date.parse(c.notAfter));
  };
  const pub = (): V3Signer => ({ serial: made().id, privateKey: made().privateKey });
  const cert = (): V3Signer => {
    const c = live().at(-1) ?? newest();
    if (!c) return pub();
    return { serial: c.serial, privateKey: c.privateKey };
  };
  /** In `both` mode responses and notifications each alternate, on their own turns. */
  const turns = { response: 0, notification: 0 };
  const byMode = (kind: keyof typeof turns): V3Signer => {
    if (mode === 'public-key') return pub();
    if (mode === 'certificate') return cert();
    turns[kind] += 1;
    return turns[kind] % 2 === 1 ? pub() : cert();
  };

  return {
    mode,
    ready() {
      making ??= make();
      return making;
    },
    publicKeyId: () => made().id,
    certificates: () => [...certificates],
    usableSerials() {
      const out: string[] = [];
      if (mode !== 'certificate') out.push(made().id);
      if (mode !== 'public-key') out.push(...live().map((c) => c.serial));
      return out;
    },
    responseSigner(requestedSerial) {
      if (requestedSerial && requestedSerial === made().id && mode !== 'certificate') return pub();
      const named = live().find((c) => c.serial === requestedSerial);
      if (named && mode !== 'public-key') return { serial: named.serial, privateKey: named.privateKey };
      return byMode('response');
    },
    notificationSigner: () => byMode('notification'),
    async rotate() {
      await this.ready();
      return addCertificate(await newRsaKey());
    },
    published() {
      const p = made();
      return {
        publicKeyId: p.id,
        publicKeyPem: createPublicKey(p.privateKey).export({ type: 'spki', format: 'pem' }) as string,
        certificates: certificates.map(({ serial, pem, notBefore, notAfter }) => ({
          serial,
          pem,
          notBefore,
          notAfter,
        })),
      };
    },
  };
}
