import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openBatchRenderer } from '../../inputs/template/render';
import { ShipperSchema } from '../../domain/shipment-schema';
import { BAD_ROWS, generateOrders, toCsv } from '../../scripts/gen-example-orders';

const root = new URL('../../examples/', import.meta.url);
const shipper = ShipperSchema.parse(JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')));
const csv = readFileSync(new URL('orders.csv', root), 'utf8');
const rows = generateOrders();

// Bad rows (1-based): 17 bad ZIP, 42 missing city, 88 overweight (200 lb), 133 40-char address line.
const EXPECTED: Record<number, string> = {
  [BAD_ROWS.badZip]: 'E-2001 ShipTo.Address.PostalCode',
  [BAD_ROWS.missingCity]: 'E-1001 ShipTo.Address.City',
  [BAD_ROWS.overweight]: 'E-2004 Package[0].PackageWeight.Weight',
  [BAD_ROWS.longAddress]: 'E-2005 ShipTo.Address.AddressLine[0]',
};
/** sha256 of JSON.stringify of the 196 good RenderResults made by the in-process renderer (commit c27c1fa). */
const BEFORE_ISOLATION = '9a0967b6183a0161fa18cc18c534b888940259da025a14a510cc7cce83758f40';

test('examples/orders.csv is what the generator produces (deterministic, 200 rows)', () => {
  assert.equal(csv, toCsv(rows));
  assert.equal(rows.length, 200);
  assert.deepEqual(Object.keys(EXPECTED).map(Number), [17, 42, 88, 133]);
});

test('every good row renders into a valid request, byte-identical to before isolation; each bad row gives the expected errors', async () => {
  const opened = await openBatchRenderer({
    templateSource: readFileSync(new URL('template.njk', root), 'utf8'),
    shipper,
    batch: { id: 'batch-example' },
  });
  assert.ok(opened.ok, opened.ok ? '' : opened.error);
  try {
    const results = await opened.renderer.renderRows(rows.map((data, i) => ({ rowNo: i + 1, data })));
    assert.equal(results.length, 200);
    results.forEach((r, i) => {
      const rowNo = i + 1;
      if (EXPECTED[rowNo]) {
        assert.equal(r.ok, false, `row ${rowNo} should be invalid`);
        if (!r.ok)
          assert.deepEqual(
            r.errors.map((e) => `${e.code} ${e.path}`),
            [EXPECTED[rowNo]],
          );
      } else {
        assert.equal(r.ok, true, `row ${rowNo}: ${JSON.stringify(r)}`);
        if (r.ok)
          assert.equal(
            r.request.ShipmentRequest.Request.TransactionReference?.CustomerContext,
            `SBexample-00000000-${rowNo}`,
          );
      }
    });
    const good = results.filter((r) => r.ok);
    assert.equal(good.length, 196);
    // The reference gained a per-batch key since; with the old reference form the bytes are the same.
    const oldReferences = JSON.stringify(good).replace(/"SBexample-00000000-(\d+)"/g, '"SBexample-$1"');
    assert.equal(createHash('sha256').update(oldReferences).digest('hex'), BEFORE_ISOLATION);
  } finally {
    opened.renderer.dispose();
  }
});
