import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { openDatabase } from '../../src/db/open.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { API_VERSIONS, CATALOGUE, CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

/**
 * Two service instances on one PostgreSQL database, as two processes behind a load balancer:
 * 20 refunds of one order sent to both at once never add up to more than was paid, because the
 * cap is one conditional UPDATE in the database, not a check in either process.
 */
for (const version of API_VERSIONS)
  for (const database of testDatabases().filter((d) => d.name === 'postgres')) {
    describe(`refunds across two instances on postgres, API ${version}`, () => {
      let db: TestDbHandle;
      let h: Harness;
      let second: Service;

      beforeAll(async () => {
        db = await database.openMigrated();
        // v2 presents the merchant certificate over mutual TLS; v3 signs with the key it has.
        const certs =
          version === 'v2' ? await generateTestCertificates({ mchId: CREDENTIALS.mchId }) : undefined;
        h = await startHarness(db, {
          version,
          env: certs ? { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey } : {},
        });
        const catalogue = parseCatalogue(CATALOGUE);
        if (!catalogue.ok) throw new Error('test catalogue is invalid');
        second = await createService({
          config: h.config,
          catalogue: catalogue.catalogue,
          log: createLogger('silent'),
          clock: h.clock,
          database: await openDatabase(db.url),
          sleep: async () => {},
        });
      });
      afterAll(async () => {
        expect(await moneyInvariantViolations(db.db)).toEqual([]);
        await second?.close();
        await second?.database.close();
        await h?.close();
        await db?.close();
      });

      it('refunds at most what was paid when 20 refunds of 300 fen for a 2800 fen order hit both instances', async () => {
        const { token } = await h.login();
        const created = (await (
          await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 })
        ).json()) as {
          order: { id: string };
          payment: { package: string };
        };
        await h.sim('/sim/pay', {
          prepay_id: created.payment.package.slice('prepay_id='.length),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment: created.payment,
        });
        await h.clock.settle();
        const paid = await db.db
          .selectFrom('orders')
          .select('status')
          .where('id', '=', created.order.id)
          .executeTakeFirstOrThrow();
        expect(paid.status).toBe('PAID');
        const statuses = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const res = await (i % 2 === 0 ? h.app : second.app).inject({
              method: 'POST',
              url: `/admin/orders/${created.order.id}/refunds`,
              headers: { authorization: `Bearer ${CREDENTIALS.adminToken}`, 'idempotency-key': `two-${i}` },
              payload: { amount: 300, reason: 'race' },
            });
            return `${res.statusCode} ${res.statusCode === 201 ? '' : res.json().code}`.trim();
          }),
        );
        expect(
          statuses.filter((s) => s === '201'),
          statuses.join(', '),
        ).toHaveLength(9);
        expect(
          statuses.filter((s) => s === '409 REFUND_EXCEEDS_PAID'),
          statuses.join(', '),
        ).toHaveLength(11);
        const row = await db.db
          .selectFrom('orders')
          .select(['refunded_fen', 'refund_count'])
          .where('id', '=', created.order.id)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ refunded_fen: 2700, refund_count: 9 });
        const { sum } = await db.db
          .selectFrom('refunds')
          .select((eb) => eb.fn.sum<number>('amount').as('sum'))
          .where('order_id', '=', created.order.id)
          .executeTakeFirstOrThrow();
        expect(Number(sum)).toBe(2700);
      });
    });
  }
