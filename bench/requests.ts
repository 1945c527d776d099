/** Shipment requests rendered up front from the example template, for benchmarks that call UPS directly. */
import { readFileSync } from 'node:fs';
import { openBatchRenderer, PAGE_ROWS } from '../inputs/template/render';
import { ShipperSchema, type ShipmentRequestBody } from '../domain/shipment-schema';
import { BAD_ROWS, generateOrders } from '../scripts/gen-example-orders';

const examples = new URL('../examples/', import.meta.url);

/** The example shipper (examples/shipper.json). */
export const exampleShipper = ShipperSchema.parse(
  JSON.parse(readFileSync(new URL('shipper.json', examples), 'utf8')),
);

/**
 * `count` valid requests (the example orders without the bad ones, repeated), rows 1…count of batch
 * `batchId`, so each has a reference of its own. Rendering is not what these benchmarks measure.
 */
export async function renderRequests(count: number, batchId = 'batch-bench'): Promise<ShipmentRequestBody[]> {
  const bad = new Set<number>(Object.values(BAD_ROWS));
  const good = generateOrders().filter((_, i) => !bad.has(i + 1));
  const opened = await openBatchRenderer({
    templateSource: readFileSync(new URL('template.njk', examples), 'utf8'),
    shipper: exampleShipper,
    batch: { id: batchId },
  });
  if (!opened.ok) throw new Error(opened.error);
  const out: ShipmentRequestBody[] = [];
  try {
    while (out.length < count) {
      const rows = Array.from({ length: Math.min(PAGE_ROWS, count - out.length) }, (_, i) => {
        const rowNo = out.length + i + 1;
        return { rowNo, data: good[rowNo % good.length]! };
      });
      for (const r of await opened.renderer.renderRows(rows)) {
        if (!r.ok) throw new Error(JSON.stringify(r.errors));
        out.push(r.request);
      }
    }
  } finally {
    opened.renderer.dispose();
  }
  return out;
}

/** The reference a request carries (what the sandbox files its shipment under). */
export function requestReference(r: ShipmentRequestBody): string | undefined {
  return (r.ShipmentRequest.Request as { TransactionReference?: { CustomerContext?: string } })
    .TransactionReference?.CustomerContext;
}
