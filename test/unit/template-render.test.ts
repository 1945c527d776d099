import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTemplate, openBatchRenderer, renderShipmentRequest } from '../../inputs/template/render';

const shipper = {
  Name: 'Acme Widgets Inc',
  ShipperNumber: 'A1B2C3',
  Address: {
    AddressLine: ['1 Main St'],
    City: 'Austin',
    StateProvinceCode: 'TX',
    PostalCode: '78744',
    CountryCode: 'US',
  },
};
const TPL = `{
  "ShipTo": { "Name": {{ name | json }}, "Address": { "AddressLine": [{{ street | truncate_address | json }}],
    "City": {{ row.city | json }}, "StateProvinceCode": "{{ state }}", "PostalCode": "{{ zip | format_us_zip }}", "CountryCode": "US" } },
  "Service": { "Code": "{{ service | lookup_service_code }}" },
  "Package": [{ "Packaging": { "Code": "02" }, "PackageWeight": { "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "{{ lbs | round_weight }}" } },
              { "Packaging": { "Code": "02" }, "PackageWeight": { "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "1" } }],
  "Description": "{{ batch.name }} for {{ shipper.Name }}"
}`;
const row = {
  name: 'Jane Doe',
  street: '12 Oak Ave',
  city: 'Denver',
  state: 'CO',
  zip: '802021234',
  service: 'ground',
  lbs: '2.26',
};

test('renders, completes and validates the request_body', async () => {
  const r = await renderShipmentRequest(TPL, row, 5, shipper, {
    id: 'batch-spring',
    name: 'Spring',
    labelFormat: 'ZPL',
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  if (!r.ok) return;
  const sr = r.request.ShipmentRequest;
  assert.equal(sr.Request.RequestOption, 'nonvalidate');
  assert.equal(sr.Request.TransactionReference?.CustomerContext, 'SBspring-00000000-5');
  assert.equal(sr.LabelSpecification.LabelImageFormat.Code, 'ZPL');
  assert.equal(sr.Shipment.Shipper.ShipperNumber, 'A1B2C3');
  assert.deepEqual(sr.Shipment.PaymentInformation, {
    ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: 'A1B2C3' } }],
  });
  assert.equal(sr.Shipment.Package.length, 2);
  for (const p of sr.Shipment.Package)
    assert.deepEqual(p.ReferenceNumber, { Code: 'PO', Value: 'SBspring-00000000-5' });
  assert.equal(sr.Shipment.ShipTo.Address.PostalCode, '80202-1234');
  assert.equal(sr.Shipment.Service.Code, '03');
  assert.equal(sr.Shipment.Package[0]!.PackageWeight.Weight, '2.3');
  assert.equal(sr.Shipment['Description'], 'Spring for Acme Widgets Inc');
});

const PAYER =
  '"PaymentInformation": { "ShipmentCharge": [{ "Type": "01", "BillReceiver": { "AccountNumber": "ZZZ999" } }] }, "Service"';

test('a template-set PaymentInformation is refused unless the batch lets the template set the payer', async () => {
  const tpl = TPL.replace('"Service"', PAYER);
  const refused = await renderShipmentRequest(tpl, row, 1, shipper, { id: 'b1', name: 'n' });
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.equal(refused.errors[0]!.path, 'PaymentInformation');
    assert.match(refused.errors[0]!.message, /must not set PaymentInformation.*templateSetsPayer/);
  }
  const r = await renderShipmentRequest(
    tpl,
    row,
    1,
    shipper,
    { id: 'b1', name: 'n' },
    { templateSetsPayer: true },
  );
  assert.equal(r.ok, true, JSON.stringify(r));
  if (r.ok) {
    assert.match(JSON.stringify(r.request.ShipmentRequest.Shipment.PaymentInformation), /BillReceiver/);
    assert.equal(r.request.ShipmentRequest.Shipment.Shipper.ShipperNumber, 'A1B2C3');
  }
});

test('a template-set Shipper is refused, even when the template may set the payer', async () => {
  const tpl = TPL.replace('"Service"', '"Shipper": { "Name": "Evil", "ShipperNumber": "EV1L01" }, "Service"');
  const r = await renderShipmentRequest(
    tpl,
    row,
    4,
    shipper,
    { id: 'b1', name: 'n' },
    { templateSetsPayer: true },
  );
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(
      r.errors.map((e) => [e.rowNo, e.code, e.path, e.rule]),
      [[4, 'E-4003', 'Shipper', 'template_owned_field']],
    );
  }
});

test('undefined variable is an E-4003 error naming it', async () => {
  const r = await renderShipmentRequest('{ "a": "{{ nosuchcolumn }}" }', row, 3, shipper, { id: 'b1' });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.errors[0]!.code, 'E-4003');
    assert.match(r.errors[0]!.message, /undefined variable "nosuchcolumn"/);
  }
});

test('bad JSON is an E-4003 error with the parse position', async () => {
  const r = await renderShipmentRequest('{ "ShipTo": {{ name | json }}, }', row, 2, shipper, { id: 'b1' });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.errors[0]!.code, 'E-4003');
    assert.equal(r.errors[0]!.rule, 'template_json');
    assert.match(r.errors[0]!.message, /line 1 column 25 \(position 24\)/);
  }
});

test('filter error (bad phone) is a row error, not a crash', async () => {
  const r = await renderShipmentRequest('{"p": "{{ "123" | to_ups_phone }}"}', row, 9, shipper, { id: 'b1' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors[0]!.message, /to_ups_phone/);
});

test('syntax error reported by openBatchRenderer and checkTemplate', async () => {
  const opened = await openBatchRenderer({ templateSource: '{{ oops ', shipper, batch: { id: 'b1' } });
  assert.equal(opened.ok, false);
  if (!opened.ok) assert.match(opened.error, /expected variable end/);
  const second = await openBatchRenderer({
    templateSource: '{"a": 1,\n "b": {% if %}{% endif %}}',
    shipper,
    batch: { id: 'b1' },
  });
  assert.equal(second.ok, false);
  if (!second.ok) assert.match(second.error, /^\[Line 2, Column \d+\] unexpected token/);
  const rep = await checkTemplate({ templateSource: '{% if %}', rows: [row], shipper });
  assert.equal(rep.ok, false);
  assert.ok(rep.compileError);
});

test('checkTemplate renders N sample rows and reports every error', async () => {
  const rows = [row, { ...row, name: 'x'.repeat(40), city: '' }, row, row];
  const rep = await checkTemplate({ templateSource: TPL, rows, shipper, sampleSize: 3 });
  assert.equal(rep.checkedRows, 3);
  assert.equal(rep.validRows, 2);
  assert.deepEqual(rep.errors.map((e) => `${e.rowNo} ${e.code} ${e.path}`).sort(), [
    '2 E-1001 ShipTo.Address.City',
    '2 E-1002 ShipTo.Name',
  ]);
});

test('renderRows: pages of rows keep their order and numbers; a row that is not JSON fails alone', async () => {
  const opened = await openBatchRenderer({
    templateSource: TPL,
    shipper,
    batch: { id: 'batch-pages', name: 'p' },
  });
  assert.ok(opened.ok);
  if (!opened.ok) return;
  try {
    const rows = Array.from({ length: 600 }, (_, i) => ({
      rowNo: 1000 + i,
      data: i === 300 ? { ...row, big: 10n } : { ...row, name: `Person ${i}` },
    }));
    const results = await opened.renderer.renderRows(rows);
    assert.equal(results.length, 600);
    results.forEach((r, i) => {
      if (i === 300) {
        assert.equal(r.ok, false);
        if (!r.ok) {
          assert.equal(r.errors[0]!.rowNo, 1300);
          assert.match(r.errors[0]!.message, /cannot be read as JSON.*BigInt/);
        }
        return;
      }
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.request.ShipmentRequest.Shipment.ShipTo.Name, `Person ${i}`);
      assert.equal(
        r.request.ShipmentRequest.Request.TransactionReference?.CustomerContext,
        `SBpages-00000000-${1000 + i}`,
      );
    });
    // Concurrent calls on one renderer are served one after the other, each with its own results.
    const [a, b] = await Promise.all([
      opened.renderer.renderRows([{ rowNo: 1, data: { ...row, name: 'A' } }]),
      opened.renderer.renderRows([{ rowNo: 2, data: { ...row, name: 'B' } }]),
    ]);
    const [ra, rb] = [a[0], b[0]];
    assert.ok(ra?.ok && rb?.ok);
    assert.equal(ra.request.ShipmentRequest.Shipment.ShipTo.Name, 'A');
    assert.equal(rb.request.ShipmentRequest.Shipment.ShipTo.Name, 'B');
  } finally {
    opened.renderer.dispose();
  }
});
