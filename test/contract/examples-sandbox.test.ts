/**
 * The example template's requests are ones UPS (here: the sandbox, through the real client) accepts:
 * every good row of examples/orders.csv renders, rates and ships; the bad rows never get that far.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openBatchRenderer } from '../../inputs/template/render';
import { ShipperSchema, type ShipmentRequestBody } from '../../domain/shipment-schema';
import { isValidUpsTrackingNumber } from '../../ups-sandbox/tracking-number';
import { shipmentsPerReference } from '../../ups-sandbox/call-log';
import { BAD_ROWS, generateOrders } from '../../scripts/gen-example-orders';
import { openSandboxHarness, type SandboxHarness } from '../helpers/ups-sandbox';

const root = new URL('../../examples/', import.meta.url);
const shipper = ShipperSchema.parse(JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')));
const templateSource = readFileSync(new URL('template.njk', root), 'utf8');
let h: SandboxHarness;

before(async () => {
  h = await openSandboxHarness('stdio');
});
after(async () => {
  await h.close();
});

test('every good example row ships through the sandbox; the bad rows are stopped before UPS', async () => {
  const opened = await openBatchRenderer({ templateSource, shipper, batch: { id: 'batch-examples' } });
  assert.ok(opened.ok);
  const requests: Array<[number, ShipmentRequestBody]> = [];
  const bad = new Set<number>(Object.values(BAD_ROWS));
  const rendered = await opened.renderer.renderRows(
    generateOrders().map((data, i) => ({ rowNo: i + 1, data })),
  );
  opened.renderer.dispose();
  rendered.forEach((r, i) => {
    assert.equal(r.ok, !bad.has(i + 1), `row ${i + 1}`);
    if (r.ok) requests.push([i + 1, r.request]);
  });
  assert.equal(requests.length, 196);

  // A sample is rated first, as the preview does; then every row is shipped, 8 at a time.
  for (const [, request] of requests.slice(0, 10)) {
    const quote = await h.client.rateShipmentRequest(request);
    assert.ok(quote.totalCents > 0);
  }
  const shipped = new Map<number, string>();
  for (let i = 0; i < requests.length; i += 8) {
    await Promise.all(
      requests.slice(i, i + 8).map(async ([rowNo, request]) => {
        const result = await h.client.createShipment(request);
        assert.ok(isValidUpsTrackingNumber(result.trackingNumbers[0]!));
        assert.ok(result.totalCents > 0);
        shipped.set(rowNo, result.shipmentId);
      }),
    );
  }
  assert.equal(shipped.size, 196);
  assert.equal(new Set(shipped.values()).size, 196, 'one distinct shipment per row');
  const perReference = shipmentsPerReference(h.dataDir);
  assert.equal(perReference.size, 196);
  assert.ok([...perReference.values()].every((n) => n === 1));
});
