/**
 * Conformance cases about the call: argument parsing, what is refused locally and what is sent to UPS,
 * and elicitation with a client that declares it and declines.
 */
import { call, create, pkg, rate, rateBody, shipBody, shipment, shipTo, twoPayers } from './builders';
import type { ConformanceCase } from './builders';

/** A well-formed 1Z number that no shipment has. */
const TRACKING = '1ZA1B2C30312345678';

/** track_package of {@link TRACKING} with `returnSignature` as given. */
const signature = (shown: string, returnSignature: unknown): ConformanceCase =>
  call('track_package', `returnSignature ${shown}`, 'arguments', {
    inquiryNumber: TRACKING,
    returnSignature,
  });

/** void_shipment of {@link TRACKING} with `trackingnumber` as given. */
const voidPackages = (name: string, trackingnumber: unknown): ConformanceCase =>
  call('void_shipment', name, 'arguments', { shipmentidentificationnumber: TRACKING, trackingnumber });

/** A complete US address for validate_address. */
const ADDRESS = {
  addressLine1: '1 Main St',
  politicalDivision1: 'GA',
  politicalDivision2: 'Atlanta',
  zipPrimary: '30303',
  countryCode: 'US',
};

/** Argument parsing. */
export const ARGUMENT_CASES: ConformanceCase[] = [
  create('request_body as a JSON string', 'arguments', JSON.stringify(shipBody(shipment()))),
  create('request_body as a JSON list string', 'arguments', '[1, 2]'),
  create('request_body not JSON', 'arguments', 'not json'),
  create('request_body a number', 'arguments', 5),
  create('request_body null', 'arguments', null),
  call('create_shipment', 'no arguments', 'arguments', {}),
  create('version null', 'arguments', shipBody(shipment()), { version: null }),
  create('version a number', 'arguments', shipBody(shipment()), { version: 2409 }),
  rate('requestoption a number', 'arguments', rateBody(shipment()), 1),
  call('rate_shipment', 'request_body as a JSON string', 'arguments', {
    requestoption: 'Rate',
    request_body: JSON.stringify(rateBody(shipment())),
  }),
  voidPackages('numeric trackingnumber', 12345),
  voidPackages('trackingnumber list with a number', ['1Z1', 2]),
  voidPackages('trackingnumber as a JSON list string', '["1ZA1B2C30312345678"]'),
  call('void_shipment', 'numeric shipmentidentificationnumber', 'arguments', {
    shipmentidentificationnumber: 123,
  }),
  call('void_shipment', 'empty shipmentidentificationnumber', 'local_vs_ups', {
    shipmentidentificationnumber: '',
  }),
  signature('"true"', 'true'),
  signature('"maybe"', 'maybe'),
  signature('1', 1),
  signature('2', 2),
  signature('a list', [true]),
  signature('"null"', 'null'),
  call('track_package', 'no inquiryNumber', 'arguments', { locale: 'en_US' }),
  call('validate_address', 'missing required arguments', 'arguments', {
    addressLine1: '1 Main St',
    countryCode: 'US',
  }),
  create('request_body a long text', 'arguments', 'x'.repeat(80)),
  rate('requestoption with a quote', 'arguments', rateBody(shipment()), "it's"),
  signature('"TRUE"', 'TRUE'),
  signature('" true"', ' true'),
  voidPackages('trackingnumber null', null),
  voidPackages('trackingnumber an object', { a: 1 }),
  call('no_such_tool', 'unknown tool', 'arguments', {}),
];

/** Local refusal vs. sent to UPS. */
export const LOCAL_VS_UPS_CASES: ConformanceCase[] = [
  create('complete domestic shipment', 'local_vs_ups', shipBody(shipment())),
  create('two payers in the second charge', 'local_vs_ups', shipBody(shipment(twoPayers))),
  create('unknown argument idempotency_key is ignored', 'local_vs_ups', shipBody(shipment()), {
    idempotency_key: 'k-1',
  }),
  create('Request missing: RequestOption defaulted', 'local_vs_ups', {
    ShipmentRequest: { Shipment: shipment() },
  }),
  create('Package a single object', 'local_vs_ups', shipBody(shipment({ Package: pkg() }))),
  create(
    'Shipment.Description over 50 characters (domestic)',
    'local_vs_ups',
    shipBody(shipment({ Description: 'x'.repeat(60) })),
  ),
  create(
    'CustomerContext over 512 characters',
    'local_vs_ups',
    shipBody(shipment(), {
      RequestOption: 'nonvalidate',
      TransactionReference: { CustomerContext: 'r'.repeat(600) },
    }),
  ),
  rate('complete Rate', 'local_vs_ups', rateBody(shipment())),
  rate('lower-case requestoption "shop"', 'local_vs_ups', rateBody(shipment({ Service: undefined })), 'shop'),
  call('recover_label', 'request_body {}', 'local_vs_ups', { request_body: {} }),
  call('recover_label', 'LabelRecoveryRequest a string', 'local_vs_ups', {
    request_body: { LabelRecoveryRequest: 'x' },
  }),
  call('recover_label', 'by tracking number', 'local_vs_ups', {
    request_body: { LabelRecoveryRequest: { TrackingNumber: TRACKING } },
  }),
  call('void_shipment', 'unknown shipment', 'local_vs_ups', {
    shipmentidentificationnumber: TRACKING,
  }),
  call('track_package', 'unknown package', 'local_vs_ups', { inquiryNumber: TRACKING }),
  call('validate_address', 'complete address', 'local_vs_ups', { ...ADDRESS }),
  call('validate_address', 'response_format is not an argument', 'local_vs_ups', {
    ...ADDRESS,
    response_format: 42,
  }),
];

/** Elicitation (a client that declares form elicitation and declines). */
export const ELICITATION_CASES: ConformanceCase[] = [
  {
    ...create(
      'missing fields, declined',
      'elicitation',
      shipBody(shipment({ ShipTo: { ...shipTo(), Name: undefined } })),
    ),
    elicitation: true,
  },
  {
    ...rate('missing fields, declined', 'elicitation', rateBody(shipment({ Package: [{}] }))),
    elicitation: true,
  },
  {
    ...create(
      'structural fields are not elicited',
      'elicitation',
      shipBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } })),
    ),
    elicitation: true,
  },
  { ...create('request_body {}, declined', 'elicitation', {}), elicitation: true },
];
