import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V3KeyMode } from '../../src/simulator/config.js';
import type { PublishedKeys } from '../../src/simulator/index.js';
import { buildV3Notification } from '../../src/wechat/v3/notify.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { lowerCaseHeaders, MERCHANT_PRIVATE_KEY } from '../fixtures/v3-keys.js';
import { type CountingProxy, startCountingProxy } from './counting-proxy.js';
import { CREDENTIALS, type Harness, NOTIFY_PATHS, startHarness, V3_CREDENTIALS } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const DOWNLOAD = 'GET /v3/certificates';

/**
 * The running service verifying WeChat with platform certificates (《下载平台证书》) rather than,
 * or beside, a WeChat Pay public key, against the simulator over HTTP, with a proxy in between
 * that counts every certificate download on the wire:
 * - platform-certificate mode: the simulator in `certificate` mode, the service with no
 *   WECHAT_PAY_PUBLIC_KEY, so it downloads the certificates at start-up;
 * - the migration: the simulator in `both` mode, the service with the public key set; the
 *   certificates are downloaded when the first notification signed by one arrives.
 * In both, a rotated certificate is learnt from one download, and made-up serials cannot make
 * the service download more than once a minute.
 */
const SETUPS: { mode: V3KeyMode; what: string; env: Record<string, string> }[] = [
  {
    mode: 'certificate',
    what: 'platform-certificate mode (no WeChat Pay public key)',
    env: { WECHAT_PAY_PUBLIC_KEY: '', WECHAT_PAY_PUBLIC_KEY_ID: '' },
  },
  { mode: 'both', what: 'the public-key migration (public key and certificates)', env: {} },
];

for (const setup of SETUPS)
  for (const database of testDatabases()) {
    describe(`API v3 ${setup.what} on ${database.name}`, () => {
      let db: TestDbHandle;
      let h: Harness;
      let proxy: CountingProxy;

      beforeAll(async () => {
        db = await database.openMigrated();
        proxy = await startCountingProxy();
        h = await startHarness(db, {
          version: 'v3',
          v3KeyMode: setup.mode,
          env: setup.env,
          payBaseUrl: (simulatorUrl) => {
            proxy.forwardTo(simulatorUrl);
            return proxy.url;
          },
        });
      });
      afterAll(async () => {
        expect(await moneyInvariantViolations(db.db)).toEqual([]);
        await h?.close();
        await proxy?.close();
        await db?.close();
      });

      /** An order created through the service, not paid yet. */
      async function newOrder() {
        const { token } = await h.login();
        const res = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 });
        expect(res.status).toBe(201);
        return (await res.json()) as {
          order: { id: string; outTradeNo: string };
          payment: Record<string, string>;
        };
      }

      /** Pays `created` at the simulator; answers the key each notification attempt was signed by. */
      async function pay(created: Awaited<ReturnType<typeof newOrder>>) {
        const paid = await h.sim('/sim/pay', {
          prepay_id: created.payment.package!.slice('prepay_id='.length),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment: created.payment,
        });
        expect(paid.status).toBe(200);
        await h.clock.settle();
        const sent = await h.sim(`/sim/notifications?out_trade_no=${created.order.outTradeNo}`);
        const attempts = (
          sent.json as { attempts: { ok: boolean; v3: { headers: Record<string, string> } }[] }
        ).attempts;
        return attempts.map((a) => ({ ok: a.ok, serial: a.v3.headers['Wechatpay-Serial'] }));
      }

      const statusOf = async (id: string) =>
        (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
          .status;
      const keys = async () => (await h.sim('/sim/v3/keys')).json as PublishedKeys;
      /** Moves both clocks past the one-download-a-minute limit. */
      const aMinutePasses = () => h.clock.advance(61_000);

      it('takes payments end to end, each notification accepted on its first attempt', async () => {
        const published = await keys();
        expect(published.certificates).toHaveLength(1);
        const certificate = published.certificates[0]!.serial;
        // Platform-certificate mode downloads at start-up; the migration only when it needs to.
        expect(proxy.count(DOWNLOAD)).toBe(setup.mode === 'certificate' ? 1 : 0);

        const seen: string[] = [];
        for (let i = 0; i < 2; i++) {
          const created = await newOrder();
          const attempts = await pay(created);
          expect(attempts).toHaveLength(1);
          expect(attempts[0]!.ok).toBe(true);
          seen.push(attempts[0]!.serial!);
          expect(await statusOf(created.order.id)).toBe('PAID');
        }
        // The migration: WeChat signs with either key; the first certificate signature cost one download.
        expect(new Set(seen)).toEqual(
          new Set(setup.mode === 'certificate' ? [certificate] : [published.publicKeyId, certificate]),
        );
        expect(proxy.count(DOWNLOAD)).toBe(1);
      });

      it('accepts the first notification signed by a rotated certificate, after one download', async () => {
        const before = proxy.count(DOWNLOAD);
        const created = [await newOrder(), await newOrder()];
        const rotated = await h.sim('/sim/v3/rotate', {});
        expect(rotated.status).toBe(201);
        const serial = (rotated.json as { serial: string }).serial;
        await aMinutePasses();

        const serials: string[] = [];
        for (const order of created) {
          const attempts = await pay(order);
          expect(attempts.map((a) => a.ok)).toEqual([true]);
          serials.push(attempts[0]!.serial!);
          expect(await statusOf(order.order.id)).toBe('PAID');
        }
        expect(serials).toContain(serial);
        expect(proxy.count(DOWNLOAD)).toBe(before + 1);
      });

      it('downloads at most once a minute however many made-up serials arrive, and credits none', async () => {
        const created = await newOrder();
        const forged = (serial: string) => {
          const built = buildV3Notification({
            id: `EV-forged-${serial}`,
            createTime: '2024-01-01T12:05:31+08:00',
            eventType: 'TRANSACTION.SUCCESS',
            summary: '支付成功',
            originalType: 'transaction',
            associatedData: 'transaction',
            resource: { out_trade_no: created.order.outTradeNo },
            apiV3Key: V3_CREDENTIALS.apiV3Key,
            signer: { privateKey: MERCHANT_PRIVATE_KEY, serial },
            timestamp: Math.floor(h.clock.now() / 1000),
          });
          return fetch(`${h.serviceUrl}${NOTIFY_PATHS.v3}`, {
            method: 'POST',
            headers: { ...lowerCaseHeaders(built.headers), 'content-type': 'application/json' },
            body: built.body,
          });
        };
        const burst = async () => {
          const answers = await Promise.all(
            Array.from({ length: 10 }, () => forged(randomBytes(20).toString('hex').toUpperCase())),
          );
          return answers.map((a) => a.status);
        };

        const before = proxy.count(DOWNLOAD);
        // The last download was less than a minute ago: none at all.
        expect(await burst()).toEqual(Array(10).fill(401));
        expect(proxy.count(DOWNLOAD)).toBe(before);
        // A minute later, ten more different serials: one download between them.
        await aMinutePasses();
        expect(await burst()).toEqual(Array(10).fill(401));
        expect(proxy.count(DOWNLOAD)).toBe(before + 1);
        expect(await statusOf(created.order.id)).toBe('PENDING');
      });
    });
  }
