/**
 * Benchmark: render + complete + validate 100,000 rows (the example rows repeated in memory) with the
 * example template through the isolated renderer, in calls of 1,000 rows as the load activity makes them.
 * Prints rows/s (wall clock), CPU µs per row (all threads of the process: host and isolate) and the load
 * average, since a shared machine's figures move with it; and the in-process figure it replaces.
 * Run: npm run bench templates (BENCH_ROWS=… to change the row count).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { openBatchRenderer, type RowToRender } from '../inputs/template/render';
import { ShipperSchema } from '../domain/shipment-schema';
import { generateOrders } from './gen-example-orders';

/** The in-process (non-isolated) renderer's figure on this machine, before isolation (commit 601b99e). */
const IN_PROCESS_ROWS_PER_S = 33_539;
const N = Number(process.env['BENCH_ROWS'] ?? 100_000);
const CALL_ROWS = 1000;
const root = new URL('../examples/', import.meta.url);
const shipper = ShipperSchema.parse(JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')));
const base = generateOrders();
const rows: RowToRender[] = Array.from({ length: N }, (_, i) => ({
  rowNo: i + 1,
  data: { ...base[i % base.length]!, order_id: `ORD-${i + 1}` },
}));

const t0 = performance.now();
const opened = await openBatchRenderer({
  templateSource: readFileSync(new URL('template.njk', root), 'utf8'),
  shipper,
  batch: { id: 'batch-bench', name: 'bench' },
});
if (!opened.ok) throw new Error(opened.error);
const openMs = performance.now() - t0;
const { renderer } = opened;

// Warm-up (JIT in both engines), not counted.
await renderer.renderRows(rows.slice(0, 2000));

const load = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const start = performance.now();
let valid = 0;
let invalid = 0;
for (let i = 0; i < N; i += CALL_ROWS) {
  for (const r of await renderer.renderRows(rows.slice(i, i + CALL_ROWS))) {
    if (r.ok) valid++;
    else invalid++;
  }
}
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
renderer.dispose();
const rate = Math.round(N / (ms / 1000));
console.log(
  `templates (isolated-vm): ${N} rows rendered+validated in ${(ms / 1000).toFixed(2)} s — ${rate} rows/s, ` +
    `${((ms * 1000) / N).toFixed(1)} µs/row wall, ${((cpu.user + cpu.system) / N).toFixed(1)} µs/row CPU ` +
    `(open ${openMs.toFixed(0)} ms; valid ${valid}, invalid ${invalid}; peak RSS ` +
    `${Math.round(process.memoryUsage().rss / 1e6)} MB; load average ${load.toFixed(2)} on this machine)`,
);
console.log(
  `templates (in-process, before isolation): ${IN_PROCESS_ROWS_PER_S} rows/s — isolated is ` +
    `${Math.round((100 * rate) / IN_PROCESS_ROWS_PER_S)}% of it; goal ≥ 20000 rows/s`,
);
