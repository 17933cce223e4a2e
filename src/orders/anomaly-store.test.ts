import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createOutbox } from '../webhooks/outbox.js';
import { createAnomalyStore } from './anomaly-store.js';

for (const database of testDatabases()) {
  describe(`anomaly store on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 10 });
    });
    afterAll(() => handle.close());

    it('keeps one record of an anomaly however many times and however concurrently it is reported', async () => {
      const anomalies = createAnomalyStore(handle.db, createOutbox({ livemode: false }));
      const report = (i: number) =>
        anomalies.record(
          { kind: 'notify_amount_mismatch', ref: 'OTN1', orderId: 'ord-1', data: { attempt: i } },
          1000 + i,
        );
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => report(i)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await report(99)).toBe(false);
      const list = await anomalies.list();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ kind: 'notify_amount_mismatch', ref: 'OTN1', orderId: 'ord-1' });
    });

    it('records different kinds for one reference separately, oldest first', async () => {
      const anomalies = createAnomalyStore(handle.db, createOutbox({ livemode: false }));
      expect(await anomalies.record({ kind: 'paid_after_close', ref: 'OTN2', data: {} }, 5)).toBe(true);
      expect(
        await anomalies.record({ kind: 'unknown_out_trade_no', ref: 'OTN2', data: { total_fee: '1' } }, 6),
      ).toBe(true);
      const mine = (await anomalies.list()).filter((a) => a.ref === 'OTN2');
      expect(mine.map((a) => [a.kind, a.orderId, a.data, a.createdAt])).toEqual([
        ['paid_after_close', null, {}, 5],
        ['unknown_out_trade_no', null, { total_fee: '1' }, 6],
      ]);
    });
  });
}
