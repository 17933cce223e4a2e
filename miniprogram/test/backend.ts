/**
 * Starts the real service and simulator in-process (demo mode, SQLite in a temp folder) for
 * the mini program's tests, and offers the few simulator controls they use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Demo, startDemo } from '../../src/demo/start-demo.js';

export interface Backend {
  demo: Demo;
  setFault(spec: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  events(orderId: string): Promise<Array<{ type: string; data: unknown }>>;
  close(): Promise<void>;
}

export async function startBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-mp-'));
  const demo = await startDemo({
    port: 0,
    simulatorPort: 0,
    databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
  });
  const sim = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${demo.simulatorUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
  };
  return {
    demo,
    setFault: (spec) => sim('POST', '/sim/faults', spec),
    clearFaults: () => sim('DELETE', '/sim/faults'),
    async events(orderId) {
      const rows = await demo.database.db
        .selectFrom('order_events')
        .select(['type', 'data'])
        .where('order_id', '=', orderId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ type: r.type, data: r.data }));
    },
    async close() {
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
