import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
import { createNotificationLog, type NotificationLog } from './notification-log.js';

const T0 = Date.UTC(2026, 11, 2);
const entry = (id: string, outcome: 'paid' | 'duplicate' = 'paid') => ({
  id,
  eventType: 'TRANSACTION.SUCCESS',
  outTradeNo: `OTN-${id}`,
  outcome,
  data: {},
});

for (const database of testDatabases()) {
  describe(`v3 notification log on ${database.name}`, () => {
    let handle: TestDbHandle;
    let log: NotificationLog;
    beforeAll(async () => {
      handle = await database.openMigrated();
      log = createNotificationLog(handle.db);
    });
    afterAll(() => handle.close());

    it('answers ids asked together each by its own, with one look-up', async () => {
      await Promise.all([log.record(entry('n-1'), T0), log.record(entry('n-2'), T0)]);
      const ask = () => Promise.all(['n-1', 'n-unknown', 'n-2', 'n-1', 'n-other'].map((id) => log.has(id)));
      if (database.name === 'postgres') {
        let answers: boolean[] = [];
        const sent = await statementsSent(async () => {
          answers = await ask();
        });
        expect(answers).toEqual([true, false, true, true, false]);
        expect(sent).toHaveLength(1);
      } else {
        expect(await ask()).toEqual([true, false, true, true, false]);
      }
    });

    it('keeps the first of two copies recorded at once, and then knows the id', async () => {
      expect(await log.has('n-3')).toBe(false);
      await Promise.all([
        log.record(entry('n-3', 'paid'), T0 + 1),
        log.record(entry('n-3', 'duplicate'), T0 + 2),
      ]);
      const rows = (await log.list()).filter((r) => r.id === 'n-3');
      expect(rows.map((r) => r.outcome)).toEqual(['paid']);
      expect(await log.has('n-3')).toBe(true);
    });
  });
}
