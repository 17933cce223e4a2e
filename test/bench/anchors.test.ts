/**
 * The anchors the bench compares weapp-pay with must be honest handlers: they answer SUCCESS
 * only for a notification whose signature holds, and credit its order, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHORS } from '../../bench/args.js';
import { type PreparedOrder, prepareOrders } from '../../bench/prepare.js';
import { type ServerProcess, startAnchor } from '../../bench/processes.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { type DbHandle, openDatabase } from '../../src/db/open.js';
import { notifyReply } from '../../src/wechat/v2/notify.js';

for (const anchor of ANCHORS) {
  describe(`bench anchor ${anchor}`, () => {
    let dir: string;
    let handle: DbHandle;
    let orders: PreparedOrder[];
    let server: ServerProcess;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'anchor-'));
      handle = await openDatabase(`sqlite:${join(dir, 'bench.db')}`);
      await migrateToLatest(handle);
      orders = await prepareOrders(handle, 2, 'v2', anchor === 'anchor-koa' ? 'MD5' : 'HMAC-SHA256');
      server = await startAnchor(anchor, join(dir, 'bench.db'));
    });
    afterAll(async () => {
      await server.stop();
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const post = async (body: Buffer | string) => {
      const res = await fetch(`${server.url}/payment/wxnotify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      return res.text();
    };
    const statusOf = async (id: string) =>
      (await handle.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;

    it('credits a signed notification once, and answers SUCCESS to its copy', async () => {
      const [order] = orders;
      expect(await post(order!.body)).toBe(notifyReply(true));
      expect(await post(order!.body)).toBe(notifyReply(true));
      expect(await statusOf(order!.id)).toBe('PAID');
      const changes = await handle.db
        .selectFrom('order_events')
        .select('type')
        .where('order_id', '=', order!.id)
        .where('type', '=', 'state_changed')
        .execute();
      expect(changes).toHaveLength(1);
    });

    it('refuses a notification whose amount was changed after signing, and credits nothing', async () => {
      const [, order] = orders;
      const forged = order!.body
        .toString()
        .replace('<total_fee>2800</total_fee>', '<total_fee>1</total_fee>');
      expect(forged).not.toBe(order!.body.toString());
      expect(await post(forged)).toContain('FAIL');
      expect(await statusOf(order!.id)).toBe('PENDING');
    });
  });
}
