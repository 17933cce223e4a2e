/**
 * out_trade_no uniqueness at full scale: 10^7 values from 4 processes, each generating as fast
 * as it can (so hundreds to thousands land in every millisecond), checked globally for collisions
 * and for WeChat's charset/length rule.
 *
 *   node --import tsx bench/out-trade-no-collisions.ts [processes=4] [perProcess=2500000]
 *
 * Exits 1 on any collision or invalid id. Needs ~1.5 GB of memory in the parent.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OUT_TRADE_NO_PATTERN } from '../src/orders/out-trade-no.js';

const processes = Number(process.argv[2] ?? 4);
const perProcess = Number(process.argv[3] ?? 2_500_000);
const generator = fileURLToPath(new URL('../src/orders/out-trade-no.ts', import.meta.url));

const child = `
  import { createOutTradeNoGenerator } from ${JSON.stringify(generator)};
  const next = createOutTradeNoGenerator();
  const chunk = [];
  for (let i = 0; i < ${perProcess}; i++) {
    chunk.push(next());
    if (chunk.length === 10000) { process.stdout.write(chunk.join('\\n') + '\\n'); chunk.length = 0; }
  }
  if (chunk.length) process.stdout.write(chunk.join('\\n') + '\\n');`;

async function collect(): Promise<string[][]> {
  return Promise.all(
    Array.from({ length: processes }, async () => {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ids: string[] = [];
      for await (const line of createInterface({ input: proc.stdout })) ids.push(line);
      return ids;
    }),
  );
}

const started = performance.now();
const perChild = await collect();
const generatedMs = performance.now() - started;

let invalid = 0;
let maxPerMs = 0;
for (const ids of perChild) {
  // Ids of one process share the 8-digit time prefix within a millisecond: count the longest run.
  let run = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string;
    if (!OUT_TRADE_NO_PATTERN.test(id)) invalid++;
    run = i > 0 && id.slice(0, 8) === (ids[i - 1] as string).slice(0, 8) ? run + 1 : 1;
    if (run > maxPerMs) maxPerMs = run;
  }
}
const all = perChild.flat();
all.sort();
let collisions = 0;
for (let i = 1; i < all.length; i++) if (all[i] === all[i - 1]) collisions++;

const result = {
  processes,
  total: all.length,
  collisions,
  invalid,
  maxIdsInOneMsPerProcess: maxPerMs,
  generateSeconds: +(generatedMs / 1000).toFixed(2),
  totalSeconds: +((performance.now() - started) / 1000).toFixed(2),
};
console.log(JSON.stringify(result));
process.exitCode = collisions === 0 && invalid === 0 && all.length === processes * perProcess ? 0 : 1;
