/**
 * Benchmark: render + validate 100,000 rows (the example rows repeated in memory) with the example
 * template, as the load activity does. Prints rows/s and total time. Run: node --import tsx scripts/bench-templates.ts
 */
import { readFileSync } from 'node:fs';
import { prepareTemplate, renderShipmentRequest } from '../activities/template/render';
import { ShipperSchema } from '../domain/shipment-schema';
import { generateOrders } from './gen-example-orders';

const N = Number(process.env['BENCH_ROWS'] ?? 100_000);
const root = new URL('../examples/', import.meta.url);
const shipper = ShipperSchema.parse(JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')));
const base = generateOrders();
const rows = Array.from({ length: N }, (_, i) => ({ ...base[i % base.length]!, order_id: `ORD-${i + 1}` }));

const t0 = performance.now();
const p = prepareTemplate(readFileSync(new URL('template.njk', root), 'utf8'));
if (!p.ok) throw new Error(p.error);
const compileMs = performance.now() - t0;

const start = performance.now();
let valid = 0;
let invalid = 0;
for (let i = 0; i < N; i++) {
  const r = renderShipmentRequest(p.template, rows[i]!, i + 1, shipper, { id: 'batch-bench', name: 'bench' });
  if (r.ok) valid++;
  else invalid++;
}
const ms = performance.now() - start;
console.log(
  `templates: ${N} rows rendered+validated in ${(ms / 1000).toFixed(2)} s — ${Math.round(N / (ms / 1000))} rows/s, ` +
    `${((ms * 1000) / N).toFixed(1)} µs/row (compile ${compileMs.toFixed(1)} ms; valid ${valid}, invalid ${invalid}; ` +
    `peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB)`,
);
