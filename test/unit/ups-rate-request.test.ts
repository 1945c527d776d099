import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateRequestFromShipmentRequest } from '../../activities/ups/rate-request';
import { ShipmentRequestBodySchema, type ShipmentRequestBody } from '../../domain/shipment-schema';
import { applyDefaults, findMissingFields } from '../../ups-sandbox/preflight';

type Obj = Record<string, unknown>;

/** A complete ShipmentRequest as shipbatch builds it (cf. the real server's make_complete_body()). */
function shipmentRequest(): ShipmentRequestBody {
  return ShipmentRequestBodySchema.parse({
    ShipmentRequest: {
      Request: { RequestOption: 'nonvalidate', TransactionReference: { CustomerContext: 'batch-42/row-7' } },
      Shipment: {
        Description: 'Books',
        Shipper: {
          Name: 'Test Shipper',
          ShipperNumber: '129D9Y',
          Address: {
            AddressLine: ['123 Main St'],
            City: 'Timonium',
            StateProvinceCode: 'MD',
            PostalCode: '21093',
            CountryCode: 'US',
          },
        },
        ShipTo: {
          Name: 'Test Recipient',
          Address: {
            AddressLine: ['456 Oak Ave'],
            City: 'New York',
            StateProvinceCode: 'NY',
            PostalCode: '10001',
            CountryCode: 'US',
          },
        },
        PaymentInformation: {
          ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: '129D9Y' } }],
        },
        Service: { Code: '03', Description: 'UPS Ground' },
        Package: [
          {
            Description: 'Box 1',
            Packaging: { Code: '02' },
            Dimensions: { UnitOfMeasurement: { Code: 'IN' }, Length: '10', Width: '8', Height: '4' },
            PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '5' },
            ReferenceNumber: { Code: 'PO', Value: 'row-7' },
          },
          {
            Packaging: { Code: '02' },
            PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '2.5' },
            ReferenceNumber: [{ Value: 'row-7' }, { Value: 'second' }],
          },
        ],
      },
      LabelSpecification: { LabelImageFormat: { Code: 'GIF' } },
    },
  });
}

const shipmentOf = (rate: { RateRequest: Obj }) => rate.RateRequest.Shipment as Obj;
const packagesOf = (rate: { RateRequest: Obj }) => shipmentOf(rate).Package as Obj[];

test('packages keep Packaging (not PackagingType) and lose ReferenceNumber', () => {
  const rate = rateRequestFromShipmentRequest(shipmentRequest());
  const packages = packagesOf(rate);
  assert.equal(packages.length, 2);
  for (const pkg of packages) {
    assert.deepEqual(pkg.Packaging, { Code: '02' });
    assert.equal('PackagingType' in pkg, false);
    assert.equal('ReferenceNumber' in pkg, false);
  }
  assert.deepEqual(packages[0], {
    Packaging: { Code: '02' },
    Dimensions: { UnitOfMeasurement: { Code: 'IN' }, Length: '10', Width: '8', Height: '4' },
    PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '5' },
  });
  assert.deepEqual(packages[1], {
    Packaging: { Code: '02' },
    PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '2.5' },
  });
});

test('PaymentInformation is kept unchanged (not renamed to PaymentDetails); the rest of the shipment too', () => {
  const input = shipmentRequest();
  const shipment = shipmentOf(rateRequestFromShipmentRequest(input));
  assert.deepEqual(shipment.PaymentInformation, input.ShipmentRequest.Shipment.PaymentInformation);
  assert.equal('PaymentDetails' in shipment, false);
  assert.deepEqual(shipment.Shipper, input.ShipmentRequest.Shipment.Shipper);
  assert.deepEqual(shipment.ShipTo, input.ShipmentRequest.Shipment.ShipTo);
  assert.deepEqual(shipment.Service, { Code: '03', Description: 'UPS Ground' });
  assert.equal(shipment.Description, 'Books');
  // Label fields are not part of a RateRequest.
  assert.equal('LabelSpecification' in shipment, false);
  assert.equal('LabelSpecification' in rateRequestFromShipmentRequest(input).RateRequest, false);
});

test('TransactionReference is carried to RateRequest.Request', () => {
  const rate = rateRequestFromShipmentRequest(shipmentRequest());
  assert.deepEqual(rate.RateRequest.Request, {
    TransactionReference: { CustomerContext: 'batch-42/row-7' },
  });
  const without = shipmentRequest();
  delete without.ShipmentRequest.Request.TransactionReference;
  assert.deepEqual(rateRequestFromShipmentRequest(without).RateRequest.Request, {});
});

test('ShipmentRatingOptions.NegotiatedRatesIndicator is set, other options kept', () => {
  const rate = rateRequestFromShipmentRequest(shipmentRequest());
  assert.deepEqual(shipmentOf(rate).ShipmentRatingOptions, { NegotiatedRatesIndicator: '' });

  const input = shipmentRequest();
  (input.ShipmentRequest.Shipment as Obj).ShipmentRatingOptions = { RateChartIndicator: '' };
  assert.deepEqual(shipmentOf(rateRequestFromShipmentRequest(input)).ShipmentRatingOptions, {
    RateChartIndicator: '',
    NegotiatedRatesIndicator: '',
  });
});

test('does not mutate its input, and the result does not share the shipment with it', () => {
  const input = shipmentRequest();
  (input.ShipmentRequest.Shipment as Obj).ShipmentRatingOptions = { RateChartIndicator: '' };
  const before = structuredClone(input);
  const rate = rateRequestFromShipmentRequest(input);
  assert.deepEqual(input, before);

  // The server fills defaults in place; that must not reach the ShipmentRequest.
  const shipment = shipmentOf(rate);
  applyDefaults(shipment, 'ZZZ999');
  ((shipment.PaymentInformation as Obj).ShipmentCharge as Obj[]).push({ Type: '02' });
  (packagesOf(rate)[0]!.PackageWeight as Obj).Weight = '99';
  (shipment.ShipmentRatingOptions as Obj).Extra = 'x';
  assert.deepEqual(input, before);
});

test('a bare Package object becomes a one-element list', () => {
  const input = shipmentRequest();
  const single = input.ShipmentRequest.Shipment.Package[0]!;
  (input.ShipmentRequest.Shipment as Obj).Package = single;
  const packages = packagesOf(rateRequestFromShipmentRequest(input));
  assert.equal(packages.length, 1);
  assert.deepEqual(packages[0]!.Packaging, { Code: '02' });
  assert.equal('ReferenceNumber' in packages[0]!, false);
});

test('the derived RateRequest passes the real server preflight (sandbox applyDefaults + findMissingFields)', () => {
  for (const account of [undefined, '129D9Y']) {
    const shipment = shipmentOf(rateRequestFromShipmentRequest(shipmentRequest()));
    applyDefaults(shipment, account);
    assert.deepEqual(
      findMissingFields(shipment, 'RateRequest', { serviceRequired: true }),
      [],
      String(account),
    );
  }
});

test('PackagingType instead of Packaging is reported missing as package_N_packaging_code', () => {
  const shipment = shipmentOf(rateRequestFromShipmentRequest(shipmentRequest()));
  const packages = shipment.Package as Obj[];
  for (const pkg of packages) {
    pkg.PackagingType = pkg.Packaging;
    delete pkg.Packaging;
  }
  applyDefaults(shipment, '129D9Y');
  const missing = findMissingFields(shipment, 'RateRequest', { serviceRequired: true });
  assert.deepEqual(
    missing.map((m) => [m.flat_key, m.dot_path]),
    [
      ['package_1_packaging_code', 'RateRequest.Shipment.Package[0].Packaging.Code'],
      ['package_2_packaging_code', 'RateRequest.Shipment.Package[1].Packaging.Code'],
    ],
  );

  // Only the renamed package is reported.
  const one = shipmentOf(rateRequestFromShipmentRequest(shipmentRequest()));
  const first = (one.Package as Obj[])[0]!;
  first.PackagingType = first.Packaging;
  delete first.Packaging;
  applyDefaults(one, undefined);
  assert.deepEqual(
    findMissingFields(one, 'RateRequest', { serviceRequired: true }).map((m) => m.flat_key),
    ['package_1_packaging_code'],
  );
});
