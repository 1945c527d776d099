/** Conformance cases about the structure of the request body: missing, empty or mistyped parts. */
import { ACCOUNT, create, pkg, rate, rateBody, shipBody, shipment, shipper, shipTo } from './builders';
import type { ConformanceCase } from './builders';

/** Structure errors. */
export const STRUCTURE_CASES: ConformanceCase[] = [
  create('request_body {}', 'structure', {}),
  create('ShipmentRequest without Shipment', 'structure', { ShipmentRequest: {} }),
  create('no Package', 'structure', shipBody(shipment({ Package: undefined }))),
  create('Package []', 'structure', shipBody(shipment({ Package: [] }))),
  create('Package a string', 'structure', shipBody(shipment({ Package: 'box' }))),
  create('Package list with a string element', 'structure', shipBody(shipment({ Package: [pkg(), 'x'] }))),
  create('ShipmentRequest a string', 'structure', { ShipmentRequest: 'x' }),
  create('Shipment a string', 'structure', shipBody('x')),
  create('Shipment a list', 'structure', shipBody([shipment()])),
  create('PaymentInformation a string', 'structure', shipBody(shipment({ PaymentInformation: 'x' }))),
  create(
    'ShipmentCharge a string',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: 'x' } })),
  ),
  create(
    'ShipmentCharge []',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: [] } })),
  ),
  create('Request a string', 'structure', shipBody(shipment(), 'x')),
  create('Shipper a string', 'structure', shipBody(shipment({ Shipper: 'x' }))),
  create('ShipTo a string', 'structure', shipBody(shipment({ ShipTo: 'x' }))),
  create(
    'Shipper.Address a string',
    'structure',
    shipBody(shipment({ Shipper: { ...shipper(), Address: 'x' } })),
  ),
  create('Service a string', 'structure', shipBody(shipment({ Service: '03' }))),
  create(
    'blank fields count as missing',
    'structure',
    shipBody(shipment({ ShipTo: { ...shipTo(), Name: '  ' } })),
  ),
  create(
    'two packages missing weights',
    'structure',
    shipBody(shipment({ Package: [{ Packaging: { Code: '02' } }, { Packaging: { Code: '02' } }] })),
  ),
  create(
    'two payers in the first charge',
    'structure',
    shipBody(
      shipment({
        PaymentInformation: {
          ShipmentCharge: {
            Type: '01',
            BillShipper: { AccountNumber: ACCOUNT },
            BillReceiver: { AccountNumber: 'R1R2R3' },
          },
        },
      }),
    ),
  ),
  create(
    'BillReceiver without account number',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: { Type: '01', BillReceiver: {} } } })),
  ),
  rate('request_body {}', 'structure', {}),
  rate('Shipment a string', 'structure', rateBody('x')),
  rate('PaymentInformation a string', 'structure', rateBody(shipment({ PaymentInformation: 'x' }))),
  rate('Shipper a string', 'structure', rateBody(shipment({ Shipper: 'x' }))),
  rate('no Package', 'structure', rateBody(shipment({ Package: undefined }))),
  rate(
    'PackagingType instead of Packaging',
    'structure',
    rateBody(
      shipment({
        Package: [
          {
            PackagingType: { Code: '02' },
            PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '5' },
          },
        ],
      }),
    ),
  ),
  rate('Shop without Service', 'structure', rateBody(shipment({ Service: undefined })), 'Shop'),
  rate('invalid requestoption, complete body', 'structure', rateBody(shipment()), 'cheapest'),
  rate(
    'invalid requestoption, incomplete body',
    'structure',
    rateBody(shipment({ Shipper: undefined })),
    'cheapest',
  ),

  create('ShipTo null', 'structure', shipBody(shipment({ ShipTo: null }))),
  create('Request null', 'structure', shipBody(shipment(), null)),
  create('Package [null]', 'structure', shipBody(shipment({ Package: [null] }))),
  create(
    'Shipper.Address.CountryCode null',
    'structure',
    shipBody(
      shipment({
        Shipper: {
          ...shipper(),
          Address: { AddressLine: ['1 Peachtree St'], City: 'Atlanta', CountryCode: null },
        },
      }),
    ),
  ),
  rate('RateRequest null', 'structure', { RateRequest: null }),
  rate('Package a number', 'structure', rateBody(shipment({ Package: 5 }))),
];
